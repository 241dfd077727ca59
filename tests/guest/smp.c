/*
 * SMP guest: two vCPUs emit through the real guest header at once.
 * Each CPU c sends one synchronous event from client c, 2000 records into
 * its own ring c (id 400 + c), then 2000 records into the shared ring 0
 * (id 500 + c), so ring 0 has two concurrent producers.  a0 = cpu,
 * a1 = sequence number.  The AP also issues one hypercall from real mode
 * (smp.S).  Both call smp_probe_target() PER_RING times, for probes.
 * Exit code 0 when both CPUs finished.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"
#include "smpboot.h"
#include "cpu.h"

#define PER_RING        2000

static volatile int ap_done;

static volatile void *ctrl;
static void *data;
static uint32_t stride;

/* Called by both CPUs at once: the KVM tests probe it. */
__attribute__((noinline)) uint64_t smp_probe_target(uint64_t cpu,
                                                    uint64_t i)
{
    __asm__ volatile("" ::: "memory");
    return cpu * 1000000 + i;
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
        if (smp_probe_target(cpu, i) != cpu * 1000000 + i) {
            fail("probe target", i);
        }
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

void ap_main(void)
{
    cpu_report_exceptions();
    produce(apic_id());
    __atomic_store_n(&ap_done, 1, __ATOMIC_RELEASE);
}

void guest_main(void)
{
    uint64_t spins = 0;

    cpu_report_exceptions();
    hypertrace_open(&ctrl, &data);
    stride = ht_readl(ctrl, HT_REG_RING_STRIDE);
    if (ht_readl(ctrl, HT_REG_NR_RINGS) < 2) {
        fail("need 2 rings", ht_readl(ctrl, HT_REG_NR_RINGS));
    }
    smp_start_ap(1);
    produce(apic_id());
    while (!__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE)) {
        if (++spins > 20000000000ull) {
            fail("AP did not finish", spins);
        }
        __asm__ volatile("pause");
    }
    puts("smp: done\n");
    guest_exit(0);
}
