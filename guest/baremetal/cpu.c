/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "cpu.h"
#include "lib.h"

struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
} __attribute__((packed));

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap;
} __attribute__((packed));

extern uint64_t gdt_tss[2];
extern void ud_entry(void);
extern void user_exit_entry(void);
/* x86's exceptions: vectors 0-31, each with a stub in cpu.S */
#define EXCEPTION_VECTORS 32
extern void (*const exception_entries[EXCEPTION_VECTORS])(void);

static struct idt_gate idt[256];
static struct tss64 tss;
static uint8_t irq_stack[8192] __attribute__((aligned(16)));

static void set_gate(int vec, void (*fn)(void), int dpl)
{
    uint64_t a = (uint64_t)fn;

    idt[vec] = (struct idt_gate) {
        .off0 = a, .sel = 0x08, .type = 0x8e | dpl << 5,
        .off1 = a >> 16, .off2 = a >> 32,
    };
}

static void load_idt(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
        sizeof(idt) - 1, (uint64_t)idt,
    };

    __asm__ volatile("lidt %0" : : "m"(idtr));
}

__attribute__((noreturn)) void exception_report(uint64_t vector,
                                                uint64_t error,
                                                uint64_t rip)
{
    puts("exception ");
    put_dec(vector);
    puts(", error code ");
    put_hex(error);
    puts(", at ");
    put_hex(rip);
    puts("\n");
    fail("exception", vector);
}

void cpu_report_exceptions(void)
{
    int vec;

    for (vec = 0; vec < EXCEPTION_VECTORS; vec++) {
        set_gate(vec, exception_entries[vec], 0);
    }
    load_idt();
}

void cpu_init(void)
{
    uint64_t base = (uint64_t)&tss;

    set_gate(6, ud_entry, 0);
    set_gate(0x80, user_exit_entry, 3);
    load_idt();

    tss.rsp[0] = (uint64_t)irq_stack + sizeof(irq_stack);
    tss.iomap = sizeof(tss);
    gdt_tss[0] = (sizeof(tss) - 1) | (base & 0xffffff) << 16 |
                 0x89ull << 40 | ((base >> 24) & 0xff) << 56;
    gdt_tss[1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(0x38));
}
