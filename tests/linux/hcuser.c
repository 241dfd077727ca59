/*
 * User-space program for the Linux guest test: function entry and exit
 * events as hypercall nr HT_HC_USER_FUNC (a0 = function, a1 = 0 entry /
 * 1 exit), issued by hand around three nested functions.  The host test
 * resolves a0 with this binary's symbols.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include "hypertrace.h"

#define ENTER(fn) ht_hypercall(HT_HC_USER_FUNC, (unsigned long)(fn), 0, 0, 0)
#define LEAVE(fn) ht_hypercall(HT_HC_USER_FUNC, (unsigned long)(fn), 1, 0, 0)

static long last_ret;

__attribute__((noinline)) static void leaf(void)
{
    last_ret = ENTER(leaf);
    LEAVE(leaf);
}

__attribute__((noinline)) static void middle(void)
{
    ENTER(middle);
    leaf();
    leaf();
    LEAVE(middle);
}

int main(void)
{
    int i;

    ENTER(main);
    for (i = 0; i < 3; i++) {
        middle();
    }
    LEAVE(main);
    /* KVM's answer at CPL 3, under every accelerator */
    printf("hcuser: done, vmcall returned %ld\n", last_ret);
    return last_ret == -1 ? 0 : 1;
}
