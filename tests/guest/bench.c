/*
 * Per-event cost of the three channels in one guest and one run.  Each
 * phase starts with a synchronous marker (id 900 + phase) whose a0 is the
 * guest TSC just before it, so the host times each phase on the guest's
 * own clock: a marker's exit may wait for the BQL while QEMU drains the
 * ring.  Phases: 0 a plain RAM store (the loop's own cost), 1 hypercall
 * nr 1000, 2 synchronous emit with one argument (two exits), 3 ring
 * record (no exit), 4 a call of bench_probe_target(), which the host
 * may probe (entry and return).  Marker 905 ends.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

#define N 20000

static volatile uint64_t sink;

__attribute__((noinline, noipa)) uint64_t bench_probe_target(uint64_t x)
{
    return x + 1;
}

static void marker(volatile void *ctrl, uint32_t id)
{
    uint64_t args[HT_NR_ARGS] = { ht_rdtsc() };

    ht_sync_emit_n(ctrl, 0, id, args, 1);
}

void guest_main(void)
{
    uint64_t args[HT_NR_ARGS] = { 0 };
    volatile void *ctrl;
    struct ht_ring ring;
    uint64_t i;

    hypertrace_open_ring0(&ctrl, &ring);

    marker(ctrl, 900);
    for (i = 0; i < N; i++) {
        sink = i;
    }
    marker(ctrl, 901);
    for (i = 0; i < N; i++) {
        ht_hypercall(HT_HC_KERNEL_FUNC, i, 0, 0, 0);
    }
    marker(ctrl, 902);
    for (i = 0; i < N; i++) {
        args[0] = i;
        ht_sync_emit_n(ctrl, 0, 1, args, 1);
    }
    marker(ctrl, 903);
    for (i = 0; i < N; i++) {
        args[0] = i;
        ht_ring_emit(&ring, 2, args);
    }
    marker(ctrl, 904);
    for (i = 0; i < N; i++) {
        sink = bench_probe_target(i);
    }
    marker(ctrl, 905);
    puts("bench: done\n");
    guest_exit(0);
}
