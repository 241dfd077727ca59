/*
 * hypertrace where KVM does not run x86 guests: no guest TSC to read
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/hypertrace/hypertrace.h"

int hypertrace_kvm_tsc_offset(int64_t *offset)
{
    return -1;
}
