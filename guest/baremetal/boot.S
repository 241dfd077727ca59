/*
 * Multiboot entry for the bare-metal test guests: identity-map the first
 * 4 GiB with 2 MiB pages, enter long mode and call guest_main(mb_info).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define MB_MAGIC    0x1BADB002
#define MB_FLAGS    0x00000003          /* page-align modules, memory info */

    .weak early32

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .section .bss
    .align 4096
    .globl pml4
pml4:   .skip 4096
pdpt:   .skip 4096
pds:    .skip 4 * 4096
    .align 16
stack:  .skip 16384
stack_top:

    .section .text
    .code32
    .globl _start
_start:
    cli
    mov $stack_top, %esp
    mov %ebx, %edi                      /* multiboot info: 1st C argument */

    /* A guest may run 32-bit protected-mode code first (weak hook). */
    mov $early32, %eax
    test %eax, %eax
    jz 0f
    push %edi
    call *%eax
    pop %edi
0:

    /* PML4[0] -> PDPT, PDPT[0..3] -> 4 page directories of 2 MiB pages */
    /* user-accessible too (U bit): the CPL 3 tests run on the same map */
    mov $pdpt + 7, %eax
    mov %eax, pml4
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $pds + 7, %eax
    mov %eax, pdpt(, %ecx, 8)
    inc %ecx
    cmp $4, %ecx
    jne 1b
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x87, %eax                      /* present, writable, user, 2 MiB */
    mov %eax, pds(, %ecx, 8)
    mov %ecx, %eax
    shr $11, %eax                       /* high half of the address */
    mov %eax, pds + 4(, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov %cr4, %eax
    or $0x20, %eax                      /* PAE */
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx               /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax                /* PG | PE */
    mov %eax, %cr0
    lgdt gdt_desc
    ljmp $0x08, $long_mode

    .code64
long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $stack_top, %rsp
    call guest_main
3:  hlt
    jmp 3b

    .section .data
    .align 16
    .globl gdt
gdt:
    .quad 0
    .quad 0x00209a0000000000            /* 0x08: 64-bit code, DPL 0 */
    .quad 0x0000920000000000            /* 0x10: data, DPL 0 */
    .quad 0x00cf9a000000ffff            /* 0x18: 32-bit code, DPL 0 */
    .quad 0x00cf92000000ffff            /* 0x20: 32-bit data, DPL 0 */
    .quad 0x00affa000000ffff            /* 0x28: 64-bit code, DPL 3 */
    .quad 0x00cff2000000ffff            /* 0x30: data, DPL 3 */
    .globl gdt_tss
gdt_tss:
    .quad 0, 0                          /* 0x38: TSS, filled by cpu.c */
    .globl gdt_end
gdt_end:
    .globl gdt_desc
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
