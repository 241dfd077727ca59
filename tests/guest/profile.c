/*
 * Profile guest: three functions whose costs stand 1 : 2 : 4, called in
 * turn, for the host's sampler to find.  "-append slow=N" makes the
 * middle one N times slower: a planted regression for the boot diff.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"

/* Calls stay real calls: no inlining, no cloning, no tail calls. */
#define WORK __attribute__((noinline, noipa, optimize("no-optimize-sibling-calls")))

#define ROUNDS 40
#define UNIT 200000         /* loop iterations of the cheapest function */

static volatile uint64_t sink;

/* The same loop in each: a sample's share is its function's share of time */
#define SPIN(n) do { \
        for (uint64_t i = 0; i < (n); i++) { \
            sink += i; \
        } \
    } while (0)

WORK void work_small(uint64_t n)
{
    SPIN(n);
}

WORK void work_medium(uint64_t n)
{
    SPIN(n);
}

WORK void work_large(uint64_t n)
{
    SPIN(n);
}

/* N in "slow=N" on the multiboot command line, else 1. */
static uint64_t slowdown(uint32_t mb_info)
{
    const uint32_t *info = (const uint32_t *)(uintptr_t)mb_info;
    const char *p;
    uint64_t n = 0;

    if (!(info[0] & (1 << 2))) {
        return 1;
    }
    for (p = (const char *)(uintptr_t)info[4]; *p; p++) {
        if (p[0] == 's' && p[1] == 'l' && p[2] == 'o' && p[3] == 'w' &&
            p[4] == '=') {
            for (p += 5; *p >= '0' && *p <= '9'; p++) {
                n = n * 10 + (uint64_t)(*p - '0');
            }
            return n ? n : 1;
        }
    }
    return 1;
}

void guest_main(uint32_t mb_info)
{
    uint64_t slow = slowdown(mb_info);
    int r;

    puts("profile: slow=");
    put_dec(slow);
    puts("\n");
    for (r = 0; r < ROUNDS; r++) {
        work_small(UNIT);
        work_medium(2 * UNIT * slow);
        work_large(4 * UNIT);
    }
    puts("profile: done\n");
    guest_exit(0);
}
