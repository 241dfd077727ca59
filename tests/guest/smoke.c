/*
 * Smoke guest: find the hypertrace device, check its identity, emit one
 * synchronous event and three ring records with the guest header, then
 * exit with code 0 (QEMU status 1).  Any mismatch exits with 0x7f.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

void guest_main(void)
{
    uint64_t args[HT_NR_ARGS] = { 1, 2, 3, 4, 5, 6 };
    volatile void *ctrl;
    struct ht_ring ring;
    int devfn, i;

    puts("smoke: start\n");
    devfn = pci_find(HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID);
    if (devfn < 0) {
        fail("no hypertrace device", 0);
    }
    pci_write32(devfn, 0x04, pci_read32(devfn, 0x04) | 0x2); /* MEM on */
    ctrl = (volatile void *)pci_bar_addr(devfn, HT_CTRL_BAR);
    if (ht_readl(ctrl, HT_REG_MAGIC) != HT_MAGIC) {
        fail("bad magic", ht_readl(ctrl, HT_REG_MAGIC));
    }
    if (ht_readl(ctrl, HT_REG_VERSION) != HT_ABI_VERSION) {
        fail("bad version", ht_readl(ctrl, HT_REG_VERSION));
    }
    ht_sync_emit(ctrl, 0, 100, args);
    ht_ring_init(&ring, (void *)pci_bar_addr(devfn, HT_DATA_BAR),
                 ht_readl(ctrl, HT_REG_RING_STRIDE), 0, ctrl);
    for (i = 0; i < 3; i++) {
        args[0] = 0x100 + i;
        if (ht_ring_emit(&ring, 200 + i, args)) {
            fail("ring full", i);
        }
    }
    puts("smoke: done\n");
    guest_exit(0);
}
