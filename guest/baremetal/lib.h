/*
 * Tiny runtime for the bare-metal test guests: port I/O, serial console,
 * PCI configuration space and the exit device.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdint.h>
#include <stddef.h>

/* -device isa-debug-exit,iobase=0xf4,iosize=4: QEMU exits with 2 * code + 1 */
#define GUEST_EXIT_PORT 0xf4

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;

    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void puts(const char *s);
void put_hex(uint64_t v);
void put_dec(uint64_t v);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
__attribute__((noreturn)) void guest_exit(uint32_t code);
__attribute__((noreturn)) void fail(const char *why, uint64_t value);

uint32_t pci_read32(uint32_t devfn, uint32_t reg);
void pci_write32(uint32_t devfn, uint32_t reg, uint32_t v);
/* Bus 0 only: the devfn of the first device with these IDs, or -1. */
int pci_find(uint16_t vendor, uint16_t device);
/* The address of memory BAR @bar (64-bit BARs span two registers). */
uint64_t pci_bar_addr(uint32_t devfn, int bar);

/*
 * Find the hypertrace device, turn its memory decoding on and return its
 * control and data BARs, or fail("no hypertrace device").
 */
void hypertrace_open(volatile void **ctrl, void **data);

struct ht_ring;
/* hypertrace_open(), and @ring set up as the device's ring 0. */
void hypertrace_open_ring0(volatile void **ctrl, struct ht_ring *ring);

#endif
