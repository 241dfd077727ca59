/*
 * paging32: a probed cdecl function called from 32-bit protected mode
 * under each legacy paging mode (4 KiB pages, a 4 MiB PSE page, and PAE
 * with a 2 MiB page), before the switch to long mode.  The probe reads
 * the arguments and the return address on the stack through the page
 * walk of each mode.  Identity maps, in RAM.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define CR0_PG      0x80000000
#define CR4_PSE     0x10
#define CR4_PAE     0x20

    .code32
    .text
    .globl early32
early32:
    /* 1. 4 KiB pages: PD[0] -> a page table of 0-4 MiB */
    mov $3, %eax                        /* present, writable */
    xor %ecx, %ecx
1:  mov %eax, pt32(, %ecx, 4)
    add $0x1000, %eax
    inc %ecx
    cmp $1024, %ecx
    jne 1b
    movl $pt32 + 3, pd32
    mov $pd32, %eax
    call paging_on
    push $0x22
    push $0x11
    call paged32_probed
    add $8, %esp
    call paging_off

    /* 2. PSE: PD[0] is one 4 MiB page */
    movl $0x83, pd32
    mov %cr4, %eax
    or $CR4_PSE, %eax
    mov %eax, %cr4
    mov $pd32, %eax
    call paging_on
    push $0x44
    push $0x33
    call paged32_probed
    add $8, %esp
    call paging_off

    /* 3. PAE: PDPT[0] -> PD[0], one 2 MiB page */
    movl $pdpae + 1, pdpt32
    movl $0x83, pdpae
    mov %cr4, %eax
    and $~CR4_PSE, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $pdpt32, %eax
    call paging_on
    push $0x66
    push $0x55
    call paged32_probed
    add $8, %esp
    call paging_off
    mov %cr4, %eax
    and $~CR4_PAE, %eax
    mov %eax, %cr4
    ret

/* CR3 = %eax, then paging on; the identity map keeps the code in place */
paging_on:
    mov %eax, %cr3
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    ret

paging_off:
    mov %cr0, %eax
    and $~CR0_PG, %eax
    mov %eax, %cr0
    ret

    .globl paged32_probed
paged32_probed:
    mov 4(%esp), %eax
    add 8(%esp), %eax
    ret

    .bss
    .align 4096
pd32:   .skip 4096
pt32:   .skip 4096
pdpae:  .skip 4096
    .align 32
pdpt32: .skip 32
