/*
 * early32: hypercalls from 32-bit protected mode at CPL 0, before the
 * switch to long mode.  Installs our GDT and a 32-bit IDT whose #UD
 * handler skips the instruction, so the hook also runs where vmcall
 * faults.  Results go to hc32_ret[], #UDs to hc32_ud.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
    .code32
    .text
    .globl early32
early32:
    push %ebx
    push %esi
    push %edi
    push %ebp
    lgdt gdt_desc
    ljmp $0x18, $1f
1:  mov $0x20, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $ud32, %eax                     /* IDT[6]: 32-bit interrupt gate */
    mov %ax, idt32 + 6 * 8
    movw $0x18, idt32 + 6 * 8 + 2
    movw $0x8e00, idt32 + 6 * 8 + 4
    shr $16, %eax
    mov %ax, idt32 + 6 * 8 + 6
    lidt idt32_desc

    mov $1000, %eax                     /* kernel function entry */
    mov $0x0c0ffee0, %ebx
    mov $0, %ecx
    mov $1, %edx
    mov $2, %esi
    vmcall
    mov %eax, hc32_ret
    mov $1000, %eax                     /* its exit: 12345 ns */
    mov $0x0c0ffee0, %ebx
    mov $1, %ecx
    mov $12345, %edx
    mov $2, %esi
    vmcall
    mov %eax, hc32_ret + 4
    mov $4242, %eax                     /* not traced */
    vmcall
    mov %eax, hc32_ret + 8
    mov $2000, %eax                     /* vmmcall works the same */
    mov $0x4000, %ebx
    mov $0, %ecx
    mov $0, %edx
    mov $0, %esi
    vmmcall
    mov %eax, hc32_ret + 12

    pop %ebp
    pop %edi
    pop %esi
    pop %ebx
    ret

ud32:
    incl hc32_ud
    addl $3, (%esp)
    iret

    .data
    .align 8
idt32:      .skip 256 * 8
idt32_desc: .word 256 * 8 - 1
            .long idt32
    .globl hc32_ret, hc32_ud
hc32_ret:   .long 0, 0, 0, 0
hc32_ud:    .long 0
