/*
 * Eject guest: ask PIIX4's ACPI PCI hot-plug to eject the hypertrace
 * device (its slot bit in the eject register), then reset the machine.
 * After the reset, the firmware and this guest run again under the
 * reset vector's milestone probe; the guest finds the device still there
 * and exits with code 0 (QEMU status 1).  A marker in RAM above the
 * guest's image, which a reset leaves alone, tells the two boots apart.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lib.h"
#include "hypertrace.h"

#define PIIX4_PCI_EJECT_PORT   0xae08  /* PCI_EJ_BASE: one bit per slot */
#define RESET_CONTROL_PORT     0xcf9
#define BOOT_MARKER_ADDR       0x800000
#define BOOT_MARKER            0x4a454354u /* "JECT" */

void guest_main(void)
{
    volatile uint32_t *marker = (volatile uint32_t *)BOOT_MARKER_ADDR;
    int devfn = pci_find(HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID);

    if (devfn < 0) {
        fail("no hypertrace device", *marker == BOOT_MARKER);
    }
    if (*marker != BOOT_MARKER) {
        *marker = BOOT_MARKER;
        puts("eject: ejecting slot ");
        put_dec(devfn >> 3);
        puts(", then a reset\n");
        outl(PIIX4_PCI_EJECT_PORT, 1u << (devfn >> 3));
        outb(RESET_CONTROL_PORT, 0x02);
        outb(RESET_CONTROL_PORT, 0x06);
        fail("no reset", 0);
    }
    *marker = 0;
    puts("eject: the device is still there after the reset\n");
    guest_exit(0);
}
