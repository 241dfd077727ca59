/*
 * Starting an application processor (smp.S holds the trampoline).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "smpboot.h"

#define AP_TRAMPOLINE   0x8000
#define APIC_BASE       0xfee00000ul
#define APIC_ID         0x20
#define APIC_ICR_LO     0x300
#define APIC_ICR_HI     0x310

extern const uint8_t trampoline_start[], trampoline_end[], tramp_gdt_desc[];
extern const uint8_t gdt_desc[6];
volatile uint64_t ap_stack_top;
static uint8_t ap_stack[16384] __attribute__((aligned(16)));

static void apic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC_BASE + reg) = v;
}

uint32_t apic_id(void)
{
    return *(volatile uint32_t *)(APIC_BASE + APIC_ID) >> 24;
}

void smp_start_ap(uint32_t id)
{
    volatile int i;

    memcpy((void *)AP_TRAMPOLINE, trampoline_start,
           trampoline_end - trampoline_start);
    /* real mode reaches only the first MiB: give it its own descriptor */
    memcpy((void *)(AP_TRAMPOLINE + (tramp_gdt_desc - trampoline_start)),
           gdt_desc, 6);
    ap_stack_top = (uint64_t)ap_stack + sizeof(ap_stack);
    apic_write(APIC_ICR_HI, id << 24);
    apic_write(APIC_ICR_LO, 0x4500);                    /* INIT */
    for (i = 0; i < 100000; i++) {
    }
    apic_write(APIC_ICR_HI, id << 24);
    apic_write(APIC_ICR_LO, 0x4600 | AP_TRAMPOLINE >> 12); /* SIPI */
}
