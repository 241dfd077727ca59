/*
 * Application processor start-up: a real-mode trampoline, copied to
 * AP_TRAMPOLINE by smp_start_ap(), that enters long mode on the BSP's page
 * tables and calls ap_main() on the stack in ap_stack_top.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define AP_TRAMPOLINE 0x8000
#define REL(x) ((x) - trampoline_start + AP_TRAMPOLINE)

    .section .rodata
    .code16
    .globl trampoline_start, trampoline_end
trampoline_start:
    cli
    /*
     * A hypercall from real mode: nr 1000, a0 = 0x5151, a1..a3 = 1, 2, 3,
     * with the instruction native to the CPUs these tests run on (AMD's,
     * as QEMU's default CPU and the nested KVM are); at CPL 0 KVM on Intel
     * emulates it too.
     */
    mov $1000, %eax
    mov $0x5151, %ebx
    mov $1, %ecx
    mov $2, %edx
    mov $3, %esi
    vmmcall
    xor %ax, %ax
    mov %ax, %ds
    lgdtl REL(tramp_gdt_desc)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x18, $REL(tramp32)

    .code32
tramp32:
    mov $0x20, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $0x20, %eax                      /* PAE */
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax                     /* EFER.LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax
    mov %eax, %cr0
    ljmp $0x08, $ap_long_mode

    .align 8
    .globl tramp_gdt_desc
tramp_gdt_desc:                         /* a copy of gdt_desc, by start_ap() */
    .word 0
    .long 0
trampoline_end:

    .text
    .code64
ap_long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov ap_stack_top(%rip), %rsp
    call ap_main
1:  cli
    hlt
    jmp 1b
