/*
 * Flood guest: every vCPU emits into its own ring as fast as it can, for
 * FLOOD_RECORDS attempts each, then prints "flood: cpu C attempted N
 * dropped D" and halts, for the host to query the device.  Started with
 * -smp 2; the host checks that every attempt is recorded or counted lost.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"
#include "smpboot.h"

#define FLOOD_RECORDS 3000000ull

static volatile void *ctrl;
static void *data;
static volatile uint64_t dropped[2];
static volatile int ap_done;

static void flood(uint32_t cpu)
{
    uint64_t args[HT_NR_ARGS] = { cpu };
    struct ht_ring ring;
    uint64_t i;

    ht_ring_init(&ring, data, ht_readl(ctrl, HT_REG_RING_STRIDE), cpu, ctrl);
    for (i = 0; i < FLOOD_RECORDS; i++) {
        args[1] = i;
        dropped[cpu] += ht_ring_emit(&ring, 600 + cpu, args) != 0;
    }
}

void ap_main(void)
{
    flood(apic_id());
    __atomic_store_n(&ap_done, 1, __ATOMIC_RELEASE);
}

void guest_main(void)
{
    uint32_t cpu;

    hypertrace_open(&ctrl, &data);
    smp_start_ap(1);
    flood(apic_id());
    while (!__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE)) {
        __asm__ volatile("pause");
    }
    for (cpu = 0; cpu < 2; cpu++) {
        puts("flood: cpu ");
        put_dec(cpu);
        puts(" attempted ");
        put_dec(FLOOD_RECORDS);
        puts(" dropped ");
        put_dec(dropped[cpu]);
        puts("\n");
    }
    puts("flood: done\n");
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}
