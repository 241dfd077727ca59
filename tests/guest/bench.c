/*
 * Per-event cost of the three channels in one guest and one run.  Each
 * phase is timed on the guest's TSC, then the guest waits for the trace
 * writer to catch up and reports the phase in a synchronous marker (id
 * 900 + phase; a0, a1 the TSC at its start and end, a2 the TSC just
 * before the marker), which therefore finds room in the trace even after
 * a phase that filled it.  The markers' host times give the TSC rate.
 * Phases: 0 a plain RAM store (the loop's own cost), 1 hypercall nr 1000,
 * 2 synchronous emit with one argument (two exits), 3 ring record (no
 * exit), 4 a call of bench_probe_target(), which the host may probe
 * (entry and return).
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

/* Long enough for the writer to write out a full trace buffer */
#define SETTLE_TICKS 100000000ull

static void report_phase(volatile void *ctrl, uint32_t phase,
                         uint64_t start, uint64_t end)
{
    uint64_t args[HT_NR_ARGS] = { start, end };

    while (ht_rdtsc() - end < SETTLE_TICKS) {
        /* the trace writer catches up */
    }
    args[2] = ht_rdtsc();
    ht_sync_emit_n(ctrl, 0, 900 + phase, args, 3);
}

void guest_main(void)
{
    uint64_t args[HT_NR_ARGS] = { 0 };
    volatile void *ctrl;
    struct ht_ring ring;
    uint64_t i, t0;

    hypertrace_open_ring0(&ctrl, &ring);

    t0 = ht_rdtsc();
    for (i = 0; i < N; i++) {
        sink = i;
    }
    report_phase(ctrl, 0, t0, ht_rdtsc());
    t0 = ht_rdtsc();
    for (i = 0; i < N; i++) {
        ht_hypercall(HT_HC_KERNEL_FUNC, i, 0, 0, 0);
    }
    report_phase(ctrl, 1, t0, ht_rdtsc());
    t0 = ht_rdtsc();
    for (i = 0; i < N; i++) {
        args[0] = i;
        ht_sync_emit_n(ctrl, 0, 1, args, 1);
    }
    report_phase(ctrl, 2, t0, ht_rdtsc());
    t0 = ht_rdtsc();
    for (i = 0; i < N; i++) {
        args[0] = i;
        ht_ring_emit(&ring, 2, args);
    }
    report_phase(ctrl, 3, t0, ht_rdtsc());
    t0 = ht_rdtsc();
    for (i = 0; i < N; i++) {
        sink = bench_probe_target(i);
    }
    report_phase(ctrl, 4, t0, ht_rdtsc());
    puts("bench: done\n");
    guest_exit(0);
}
