/*
 * hypertrace's probes under KVM: hardware breakpoints
 *
 * KVM runs guest code natively, so a probe, a return site or a milestone
 * is a hardware breakpoint of the guest-debug interface; the debug exit
 * goes to the target's handler (x86_hypertrace_kvm_debug).
 * hw/hypertrace/probe.c counts the users of each breakpoint.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "system/cpus.h"
#include "system/kvm.h"
#include "gdbstub/enums.h"
#include "hw/hypertrace/probe.h"

bool hypertrace_kvm_breakpoint_insert(uint64_t addr)
{
    return kvm_arch_insert_hw_breakpoint(addr, 1, GDB_BREAKPOINT_HW) == 0;
}

bool hypertrace_kvm_breakpoint_remove(uint64_t addr)
{
    return kvm_arch_remove_hw_breakpoint(addr, 1, GDB_BREAKPOINT_HW) == 0;
}

void hypertrace_kvm_breakpoints_remove_all(void)
{
    kvm_arch_remove_all_hw_breakpoints();
}

static void ht_kvm_update_work(CPUState *cs, run_on_cpu_data data)
{
    kvm_update_guest_debug(cs, 0);
}

/*
 * From a vCPU, the others get the breakpoints before they next enter the
 * guest: a vCPU that waited for another could wait for one that waits
 * for it.
 */
void hypertrace_kvm_breakpoints_update(void)
{
    CPUState *cs;

    CPU_FOREACH(cs) {
        if (qemu_in_vcpu_thread() && cs != current_cpu) {
            async_run_on_cpu(cs, ht_kvm_update_work, RUN_ON_CPU_NULL);
        } else {
            kvm_update_guest_debug(cs, 0);
        }
    }
}
