/*
 * Profile guest: three functions whose costs stand 1 : 2 : 4, called in
 * turn, for the host's sampler to find.  "-append slow=N" makes the
 * middle one N times slower: a planted regression for the boot diff;
 * "rounds=N" sets how many times they are called (slow hosts: fewer).
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

/* N in "KEY=N" on the multiboot command line, else @otherwise. */
static uint64_t cmdline_value(uint32_t mb_info, const char *key,
                              uint64_t otherwise)
{
    const uint32_t *info = (const uint32_t *)(uintptr_t)mb_info;
    const char *p;
    uint64_t n = 0;
    size_t i;

    if (!(info[0] & (1 << 2))) {
        return otherwise;
    }
    for (p = (const char *)(uintptr_t)info[4]; *p; p++) {
        for (i = 0; key[i] && p[i] == key[i]; i++) {
        }
        /* a whole word: at the start, or after a space */
        if (key[i] || (p != (const char *)(uintptr_t)info[4] &&
                       p[-1] != ' ')) {
            continue;
        }
        for (p += i; *p >= '0' && *p <= '9'; p++) {
            n = n * 10 + (uint64_t)(*p - '0');
        }
        return n ? n : otherwise;
    }
    return otherwise;
}

void guest_main(uint32_t mb_info)
{
    uint64_t slow = cmdline_value(mb_info, "slow=", 1);
    uint64_t rounds = cmdline_value(mb_info, "rounds=", ROUNDS), r;

    puts("profile: slow=");
    put_dec(slow);
    puts("\n");
    for (r = 0; r < rounds; r++) {
        work_small(UNIT);
        work_medium(2 * UNIT * slow);
        work_large(4 * UNIT);
    }
    puts("profile: done\n");
    guest_exit(0);
}
