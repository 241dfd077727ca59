/*
 * 64-bit CPU plumbing for the test guests: exception and syscall entry
 * stubs, and the switch to CPL 3 and back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
    .code64
    .text

/* #UD: count it and skip the 3-byte instruction (vmcall, vmmcall). */
    .globl ud_entry
ud_entry:
    incq ud_count(%rip)
    addq $3, (%rsp)                     /* the saved RIP */
    iretq

/* void enter_user(void (*fn)(void), void *user_stack): runs fn at CPL 3
 * until it executes int $0x80, then returns here at CPL 0. */
    .globl enter_user
enter_user:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, kernel_rsp(%rip)
    pushq $0x33                         /* SS: user data | RPL 3 */
    push %rsi                           /* RSP */
    pushq $0x2                          /* RFLAGS, IF off */
    pushq $0x2b                         /* CS: user code | RPL 3 */
    push %rdi                           /* RIP */
    iretq

    .globl user_exit_entry
user_exit_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov kernel_rsp(%rip), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

    .data
    .globl ud_count
ud_count:   .quad 0
kernel_rsp: .quad 0

/* Exceptions 0-31 end the guest with a report: cpu_report_exceptions(). */
    .macro for_each_exception op
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    \op \v
    .endr
    .endm

    .macro exception_stub v
exc_\v:
    .if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
    pop %rsi                            /* the error code */
    .else
    xor %esi, %esi
    .endif
    mov $\v, %edi
    mov (%rsp), %rdx                    /* the saved RIP */
    and $-16, %rsp
    call exception_report
    .endm

    .macro exception_entry v
    .quad exc_\v
    .endm

    .text
    for_each_exception exception_stub

    .section .rodata
    .globl exception_entries
exception_entries:
    for_each_exception exception_entry
