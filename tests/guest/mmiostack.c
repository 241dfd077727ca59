/*
 * MMIO-stack guest: call a probed function, over and over, with the stack
 * pointer in MMIO (a client's argument registers in the hypertrace
 * control BAR, which read back what was written).  The probe at its entry
 * must not read that stack: a read of MMIO takes the BQL, which the main
 * loop holds while it answers the monitor.  Runs until QEMU stops it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

void stack_probed(void);

/* A plain function for the probe: its return address is on the stack. */
__asm__(".text\n"
        ".globl stack_probed\n"
        "stack_probed:\n"
        "    ret\n");

static void call_on_stack(uintptr_t stack_top)
{
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %0, %%rsp\n\t"
                     "call stack_probed\n\t"
                     "mov %%rbx, %%rsp\n\t"
                     : : "r"(stack_top) : "rbx", "memory");
}

void guest_main(void)
{
    volatile void *ctrl;
    void *data;
    uintptr_t top;

    hypertrace_open(&ctrl, &data);
    /* the return address goes into client 0's argument 1 */
    top = (uintptr_t)ctrl + HT_CLIENT_REG(0, HT_CLIENT_ARG(2));
    puts("mmiostack: calling with the stack in MMIO\n");
    for (;;) {
        call_on_stack(top);
    }
}
