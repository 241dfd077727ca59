/*
 * hypertrace without KVM: no hypercall reader, no hardware breakpoints
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/hypertrace/hypercall.h"
#include "hw/hypertrace/probe.h"

bool hypertrace_kvm_hypercalls_start(void)
{
    return false;
}

void hypertrace_kvm_hypercalls_stop(void)
{
}

bool hypertrace_kvm_breakpoint_insert(uint64_t addr)
{
    return false;
}

bool hypertrace_kvm_breakpoint_remove(uint64_t addr)
{
    return false;
}

void hypertrace_kvm_breakpoints_remove_all(void)
{
}

void hypertrace_kvm_breakpoints_update(void)
{
}
