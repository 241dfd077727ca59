/*
 * SMP guest: two vCPUs emit through the real guest header at once.
 * Each CPU c sends one synchronous event from client c, 2000 records into
 * its own ring c (id 400 + c), then 2000 records into the shared ring 0
 * (id 500 + c), so ring 0 has two concurrent producers.  a0 = cpu,
 * a1 = sequence number.  The AP also issues one hypercall from real mode
 * (smp.S).  Exit code 0 when both CPUs finished.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

#define AP_TRAMPOLINE   0x8000
#define APIC_BASE       0xfee00000ul
#define APIC_ID         0x20
#define APIC_ICR_LO     0x300
#define APIC_ICR_HI     0x310
#define PER_RING        2000

extern const uint8_t trampoline_start[], trampoline_end[], tramp_gdt_desc[];
extern const uint8_t gdt_desc[6];
volatile uint64_t ap_stack_top;
static volatile int ap_done;
static uint8_t ap_stack[16384] __attribute__((aligned(16)));

static volatile void *ctrl;
static void *data;
static uint32_t stride;

static uint32_t apic_read(uint32_t reg)
{
    return *(volatile uint32_t *)(APIC_BASE + reg);
}

static void apic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC_BASE + reg) = v;
}

static void produce(uint32_t cpu)
{
    uint64_t args[HT_NR_ARGS] = { cpu, 0, 0, 0, 0, 0 };
    struct ht_ring own, shared;
    uint64_t i;

    ht_sync_emit(ctrl, cpu, 300 + cpu, args);
    ht_ring_init(&own, data, stride, cpu, ctrl);
    ht_ring_init(&shared, data, stride, 0, ctrl);
    for (i = 0; i < PER_RING; i++) {
        args[1] = i;
        if (ht_ring_emit(&own, 400 + cpu, args)) {
            fail("own ring full", i);
        }
    }
    for (i = 0; i < PER_RING; i++) {
        args[1] = i;
        if (ht_ring_emit(&shared, 500 + cpu, args)) {
            fail("shared ring full", i);
        }
    }
}

void ap_main(void);
void ap_main(void)
{
    produce(apic_read(APIC_ID) >> 24);
    __atomic_store_n(&ap_done, 1, __ATOMIC_RELEASE);
}

static void start_ap(uint32_t apic_id)
{
    volatile int i;

    memcpy((void *)AP_TRAMPOLINE, trampoline_start,
           trampoline_end - trampoline_start);
    /* real mode reaches only the first MiB: give it its own descriptor */
    memcpy((void *)(AP_TRAMPOLINE + (tramp_gdt_desc - trampoline_start)),
           gdt_desc, sizeof(gdt_desc));
    ap_stack_top = (uint64_t)ap_stack + sizeof(ap_stack);
    apic_write(APIC_ICR_HI, apic_id << 24);
    apic_write(APIC_ICR_LO, 0x4500);                    /* INIT */
    for (i = 0; i < 100000; i++) {
    }
    apic_write(APIC_ICR_HI, apic_id << 24);
    apic_write(APIC_ICR_LO, 0x4600 | AP_TRAMPOLINE >> 12); /* SIPI */
}

void guest_main(void)
{
    uint64_t spins = 0;

    hypertrace_open(&ctrl, &data);
    stride = ht_readl(ctrl, HT_REG_RING_STRIDE);
    if (ht_readl(ctrl, HT_REG_NR_RINGS) < 2) {
        fail("need 2 rings", ht_readl(ctrl, HT_REG_NR_RINGS));
    }
    start_ap(1);
    produce(apic_read(APIC_ID) >> 24);
    while (!__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE)) {
        if (++spins > 20000000000ull) {
            fail("AP did not finish", spins);
        }
        __asm__ volatile("pause");
    }
    puts("smp: done\n");
    guest_exit(0);
}
