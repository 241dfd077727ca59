/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GUEST_SMPBOOT_H
#define GUEST_SMPBOOT_H

#include <stdint.h>

/* Start the AP with this APIC ID: it runs ap_main() on its own stack. */
void smp_start_ap(uint32_t id);
void ap_main(void);
uint32_t apic_id(void);

#endif
