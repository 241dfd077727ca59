/*
 * Reset-storm guest: reset ring 0 through its control register as fast
 * as the vCPU can, forever.  Each reset must cost the device a small,
 * bounded time under the BQL, whatever the ring size, so that the monitor
 * and other devices keep being served.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

void guest_main(void)
{
    volatile void *ctrl;
    void *data;

    hypertrace_open(&ctrl, &data);
    puts("resetstorm: resetting ring 0 in a loop\n");
    for (;;) {
        ht_writel(ctrl, HT_RING_REG(0, HT_RING_CONTROL), HT_RING_CTL_RESET);
    }
}
