/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdint.h>

/* #UD exceptions taken (and skipped) so far */
extern volatile uint64_t ud_count;

/* Load an IDT (#UD handler, int $0x80 from CPL 3) and a TSS. */
void cpu_init(void);
/*
 * Instead: make every exception (0-31) end the guest with its vector,
 * error code and RIP on the console, not a triple fault.  Per CPU.
 */
void cpu_report_exceptions(void);
/* Called by cpu.S's exception stubs; does not return. */
__attribute__((noreturn)) void exception_report(uint64_t vector,
                                                uint64_t error,
                                                uint64_t rip);
/* Run fn at CPL 3 on user_stack until it executes int $0x80. */
void enter_user(void (*fn)(void), void *user_stack);

static inline void user_return(void)
{
    __asm__ volatile("int $0x80" ::: "memory");
}

#endif
