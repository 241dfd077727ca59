/*
 * Idle guest: halts forever, so that host-side benchmarks run the device
 * with a live VM and a running virtual clock.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"

void guest_main(void)
{
    puts("idle: halting\n");
    for (;;) {
        __asm__ volatile("cli; hlt"); /* no IDT here: no interrupts */
    }
}
