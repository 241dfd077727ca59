/*
 * Flood guest: every vCPU emits into its own ring as fast as it can for
 * FLOOD_SECONDS (counted on the CMOS clock, so on real time), then prints
 * "flood: cpu C attempted N dropped D" and halts, for the host to query
 * the device.  Started with -smp 2; the host checks that every attempt is
 * recorded or counted lost.  CPU 1 also resets ring 0 every
 * RESET_EVERY emits, while CPU 0 fills it and the drain thread drains
 * it: a reset must lose nothing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"
#include "smpboot.h"

#define FLOOD_SECONDS 60
#define CLOCK_CHECK_EVERY 4096      /* emits between two reads of the RTC */
#define RESET_EVERY 1024            /* CPU 1's emits between ring 0 resets */
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_SECONDS 0x00

static volatile void *ctrl;
static void *data;
static volatile uint64_t attempted[2], dropped[2];
static volatile int stop, ap_done;
static volatile uint64_t resets;

static uint8_t rtc_seconds(void)
{
    outb(CMOS_INDEX, CMOS_SECONDS);
    return inb(CMOS_DATA);
}

/* The boot CPU watches the clock; every CPU stops when it says so. */
static void watch_clock(uint8_t *last, uint32_t *seconds)
{
    uint8_t now = rtc_seconds();

    if (now != *last) {
        *last = now;
        if (++*seconds > FLOOD_SECONDS) {
            __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
        }
    }
}

static void flood(uint32_t cpu)
{
    uint64_t args[HT_NR_ARGS] = { cpu };
    struct ht_ring ring;
    uint8_t last = rtc_seconds();
    uint32_t seconds = 0;   /* the first tick starts the count */
    uint64_t i;

    ht_ring_init(&ring, data, ht_readl(ctrl, HT_REG_RING_STRIDE), cpu, ctrl);
    for (i = 0; !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); i++) {
        args[1] = i;
        dropped[cpu] += ht_ring_emit(&ring, 600 + cpu, args) != 0;
        if (cpu == 0 && i % CLOCK_CHECK_EVERY == 0) {
            watch_clock(&last, &seconds);
        }
        if (cpu == 1 && i % RESET_EVERY == 0) {
            ht_writel(ctrl, HT_RING_REG(0, HT_RING_CONTROL),
                      HT_RING_CTL_RESET);
            resets++;
        }
    }
    attempted[cpu] = i;
}

void ap_main(void)
{
    flood(apic_id());
    __atomic_store_n(&ap_done, 1, __ATOMIC_RELEASE);
}

void guest_main(void)
{
    uint32_t cpu;

    hypertrace_open(&ctrl, &data);
    smp_start_ap(1);
    flood(apic_id());
    while (!__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE)) {
        __asm__ volatile("pause");
    }
    for (cpu = 0; cpu < 2; cpu++) {
        puts("flood: cpu ");
        put_dec(cpu);
        puts(" attempted ");
        put_dec(attempted[cpu]);
        puts(" dropped ");
        put_dec(dropped[cpu]);
        puts("\n");
    }
    puts("flood: resets of ring 0 ");
    put_dec(resets);
    puts("\nflood: seconds ");
    put_dec(FLOOD_SECONDS);
    puts("\nflood: done\n");
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}
