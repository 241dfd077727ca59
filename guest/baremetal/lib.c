/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

#define COM1 0x3f8

void puts(const char *s)
{
    for (; *s; s++) {
        while (!(inb(COM1 + 5) & 0x20)) {
            /* wait for the transmitter */
        }
        outb(COM1, *s);
    }
}

void put_hex(uint64_t v)
{
    char buf[19] = "0x";
    int i;

    for (i = 0; i < 16; i++) {
        buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
    }
    buf[18] = 0;
    puts(buf);
}

void put_dec(uint64_t v)
{
    char buf[21];
    int i = 20;

    buf[i] = 0;
    do {
        buf[--i] = '0' + v % 10;
        v /= 10;
    } while (v);
    puts(&buf[i]);
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;

    while (n--) {
        *p++ = c;
    }
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;

    while (n--) {
        *p++ = *q++;
    }
    return d;
}

void guest_exit(uint32_t code)
{
    outl(GUEST_EXIT_PORT, code);
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

void fail(const char *why, uint64_t value)
{
    puts("FAIL: ");
    puts(why);
    puts(" ");
    put_hex(value);
    puts("\n");
    guest_exit(0x7f);
}

uint32_t pci_read32(uint32_t devfn, uint32_t reg)
{
    outl(0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
    return inl(0xcfc);
}

void pci_write32(uint32_t devfn, uint32_t reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
    outl(0xcfc, v);
}

int pci_find(uint16_t vendor, uint16_t device)
{
    uint32_t devfn;

    for (devfn = 0; devfn < 256; devfn++) {
        if (pci_read32(devfn, 0) == ((uint32_t)device << 16 | vendor)) {
            return devfn;
        }
    }
    return -1;
}

uint64_t pci_bar_addr(uint32_t devfn, int bar)
{
    uint32_t lo = pci_read32(devfn, 0x10 + 4 * bar);
    uint64_t addr = lo & ~0xfull;

    if ((lo & 0x6) == 0x4) {
        addr |= (uint64_t)pci_read32(devfn, 0x14 + 4 * bar) << 32;
    }
    return addr;
}

void hypertrace_open(volatile void **ctrl, void **data)
{
    int devfn = pci_find(HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID);

    if (devfn < 0) {
        fail("no hypertrace device", 0);
    }
    pci_write32(devfn, 0x04, pci_read32(devfn, 0x04) | 0x2); /* MEM on */
    *ctrl = (volatile void *)pci_bar_addr(devfn, HT_CTRL_BAR);
    *data = (void *)pci_bar_addr(devfn, HT_DATA_BAR);
}

void hypertrace_open_ring0(volatile void **ctrl, struct ht_ring *ring)
{
    void *data;

    hypertrace_open(ctrl, &data);
    ht_ring_init(ring, data, ht_readl(*ctrl, HT_REG_RING_STRIDE), 0, *ctrl);
}
