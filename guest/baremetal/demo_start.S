/*
 * The demo's timeline starts at its first instructions: a hypercall (no
 * device discovery needed) from 32-bit protected mode, right after the
 * boot loader jumped to _start.  a0 = _start, a1 = 0 (entry).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
    .code32
    .text
    .globl early32
early32:
    push %ebx
    push %esi
    mov $1000, %eax                     /* HT_HC_KERNEL_FUNC */
    mov $_start, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    vmcall
    pop %esi
    pop %ebx
    ret
