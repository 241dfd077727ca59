/*
 * Hypercall burst guest: HCBURST_COUNT kernel hypercalls (nr 1000, a0 the
 * sequence number) back to back, then exit 0.  Under KVM the host reads
 * them from a tracepoint; a reader that cannot keep up loses samples,
 * which the trace must count exactly.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "cpu.h"
#include "hypertrace.h"

#define HCBURST_COUNT 6000

void guest_main(void)
{
    unsigned long i;

    cpu_init();
    for (i = 0; i < HCBURST_COUNT; i++) {
        ht_hypercall(HT_HC_KERNEL_FUNC, i, 0, 0, 0);
    }
    puts("hcburst: done ");
    put_hex(HCBURST_COUNT);
    puts("\n");
    guest_exit(0);
}
