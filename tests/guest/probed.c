/*
 * Probe guest: plain functions that hypertrace probes from the host, by
 * name, glob and address, with nothing in the guest that knows about it.
 * The output and exit code must be the same with and without probes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"

/* Calls stay real calls: no inlining, no cloning, no tail calls. */
#define PROBED __attribute__((noinline, noipa, optimize("no-optimize-sibling-calls")))

PROBED uint64_t probe_sum6(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                           uint64_t e, uint64_t f)
{
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
}

PROBED uint64_t probe_fact(uint64_t n)
{
    uint64_t r;

    if (n <= 1) {
        return 1;
    }
    r = probe_fact(n - 1);
    __asm__ volatile("" : "+r"(r));     /* keep the recursion a recursion */
    return n * r;
}

PROBED int64_t probe_negate(int64_t x)
{
    return -x;
}

PROBED uint64_t by_address(uint64_t x)
{
    return x ^ 0x5a5a;
}

PROBED uint64_t not_probed(uint64_t x)
{
    return x + 1;
}

void guest_main(void)
{
    uint64_t total = 0;
    int i;

    puts("probed: start\n");
    total += probe_sum6(1, 2, 3, 4, 5, 6);
    total += probe_fact(4);
    total += (uint64_t)probe_negate(7);
    for (i = 0; i < 2; i++) {
        total += by_address(i);
        total += not_probed(i);
    }
    total += probe_sum6(10, 20, 30, 40, 50, 60);
    puts("probed: total=");
    put_hex(total);
    puts("\nprobed: done\n");
    guest_exit(0);
}
