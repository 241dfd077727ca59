/*
 * Demo guest: a pretend boot in three phases.  Each phase begins with a
 * synchronous marker (one exit, exact host time) and does its "work" while
 * logging progress records into its ring (no exit).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

enum { EV_PHASE = 1, EV_STEP = 2, EV_DONE = 3 };

static void spin(uint64_t loops)
{
    volatile uint64_t i;

    for (i = 0; i < loops; i++) {
        /* burn guest time */
    }
}

void guest_main(void)
{
    static const uint64_t work[] = { 200000, 800000, 400000 };
    uint64_t args[HT_NR_ARGS] = { 0 };
    volatile void *ctrl;
    struct ht_ring ring;
    uint64_t phase, step;

    hypertrace_open_ring0(&ctrl, &ring);
    for (phase = 0; phase < 3; phase++) {
        args[0] = phase;
        args[1] = work[phase];
        ht_sync_emit(ctrl, 0, EV_PHASE, args);
        for (step = 0; step < 8; step++) {
            spin(work[phase] / 8);
            args[1] = step;
            ht_ring_emit(&ring, EV_STEP, args);
        }
    }
    args[0] = 3;
    ht_sync_emit(ctrl, 0, EV_DONE, args);
    puts("demo guest: done\n");
    guest_exit(0);
}
