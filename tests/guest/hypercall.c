/*
 * Hypercall guest: vmcall/vmmcall with known arguments from 32-bit CPL 0
 * (hc32.S, before long mode), 64-bit CPL 0 and 64-bit CPL 3.  It prints
 * every return value and the number of #UD faults, so the host compares
 * runs with and without the channel.  Exit code 0 unless it crashed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "cpu.h"
#include "hypertrace.h"

extern uint32_t hc32_ret[4], hc32_ud;

static volatile long user_ret[3];
static uint8_t user_stack[8192] __attribute__((aligned(16)));

static void user_main(void)
{
    user_ret[0] = ht_hypercall(HT_HC_USER_FUNC, 0x401000, 0, 0, 0);
    user_ret[1] = ht_hypercall(HT_HC_USER_FUNC, 0x401000, 1, 0, 0);
    user_ret[2] = ht_hypercall(HT_HC_KERNEL_FUNC, 0x1234, 0, 0, 0);
    user_return();
}

static void show(const char *what, uint64_t v)
{
    puts(what);
    puts("=");
    put_hex(v);
    puts("\n");
}

void guest_main(void)
{
    long r[4];
    int i;

    cpu_init();
    for (i = 0; i < 4; i++) {
        show("ret32", (uint64_t)(int64_t)(int32_t)hc32_ret[i]);
    }
    show("ud32", hc32_ud);

    r[0] = ht_hypercall(HT_HC_KERNEL_FUNC, 0xffffffff81000000ul, 0, 0, 1);
    r[1] = ht_hypercall(HT_HC_SCHED_SWITCH, 10, 11, 12, 13);
    r[2] = ht_hypercall(7, 1, 2, 3, 4);
    r[3] = ht_hypercall(0x1000003e8ul, 1, 2, 3, 4); /* 1000 + 2^32 */
    for (i = 0; i < 4; i++) {
        show("ret64", r[i]);
    }
    show("ud64", ud_count);

    enter_user(user_main, user_stack + sizeof(user_stack));
    for (i = 0; i < 3; i++) {
        show("retuser", user_ret[i]);
    }
    show("udall", ud_count);
    puts("hypercall: done\n");
    guest_exit(0);
}
