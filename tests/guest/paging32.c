/*
 * paging32: see paging32.S; its calls run before guest_main.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"

void guest_main(void)
{
    puts("paging32: done\n");
    guest_exit(0);
}
