/*
 * TSC-writing guest: IA32_TSC jumps TSC_JUMP ahead, then a sync marker
 * (id 10, a0 and a1 the TSC before and after the write), then phases as
 * in demo.c for about 2.5 s of its own TSC.  Each phase begins with a sync
 * marker (id 11, a0 the phase) and logs 4 ring records (id 12, a0 the
 * phase, a1 the step); a last marker ends the last phase.  Under KVM the
 * device reads KVM's new TSC offset within a second of the write.  At
 * the end it prints the jump: "tscwrite: jump 0x...".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

enum { EV_WRITE = 10, EV_PHASE = 11, EV_STEP = 12 };

#define MSR_IA32_TSC 0x10
#define TSC_JUMP (1ull << 44)       /* hours of TSC at any rate */
#define PHASES 24
#define STEPS 4
#define STEP_TICKS (1ull << 26)     /* about 25 ms at 2-3 GHz */

static void wait_ticks(uint64_t ticks)
{
    uint64_t t0 = ht_rdtsc();

    while (ht_rdtsc() - t0 < ticks) {
        /* the TSC is the only clock this guest has */
    }
}

void guest_main(void)
{
    uint64_t args[HT_NR_ARGS] = { 0 };
    volatile void *ctrl;
    struct ht_ring ring;
    uint64_t phase, step;

    hypertrace_open_ring0(&ctrl, &ring);
    args[0] = ht_rdtsc();
    args[1] = args[0] + TSC_JUMP;
    __asm__ volatile("wrmsr" : : "c"(MSR_IA32_TSC), "a"((uint32_t)args[1]),
                     "d"((uint32_t)(args[1] >> 32)));
    args[1] = ht_rdtsc();
    ht_sync_emit(ctrl, 0, EV_WRITE, args);
    args[1] = 0;
    for (phase = 0; phase <= PHASES; phase++) {
        args[0] = phase;
        ht_sync_emit(ctrl, 0, EV_PHASE, args);
        for (step = 0; phase < PHASES && step < STEPS; step++) {
            wait_ticks(STEP_TICKS);
            args[1] = step;
            ht_ring_emit(&ring, EV_STEP, args);
        }
    }
    puts("tscwrite: jump ");
    put_hex(TSC_JUMP);
    puts("\ntscwrite: done\n");
    guest_exit(0);
}
