/*
 * hypertrace: find a kernel that KASLR moved, under KVM
 *
 * TCG sees the kernel's first instruction when it translates it.  Under
 * KVM the kernel probes are hardware breakpoints at the symbols'
 * addresses, where a moved kernel never runs.  So while the kernel is
 * unchecked, look where each vCPU is every KERNEL_WATCH_NS of VM time:
 * the first one seen in the kernel's mapping checks the kernel, as a
 * probe hit would, and the kernel probes move to where it runs, long
 * before its first initcall.  Then the watch ends until the next reset.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "hw/core/cpu.h"
#include "system/kvm.h"
#include "hw/hypertrace/probe.h"
#include "hw/hypertrace/sample.h"

#define KERNEL_WATCH_NS (5 * SCALE_MS)

static QEMUTimer *kernel_watch;
static HypertraceVcpuAsk kernel_look;

static void ht_kernel_watch_cpu(CPUState *cs)
{
    uint64_t pc;

    if (hypertrace_vcpu_pc(cs, &pc) && pc >= HYPERTRACE_KERNEL_MAP_START) {
        hypertrace_probe_seen(cs, pc);
    }
}

static void ht_kernel_watch_tick(void *opaque)
{
    if (!hypertrace_probe_kernel_unchecked()) {
        return;                 /* checked: the watch ends */
    }
    hypertrace_vcpus_ask(&kernel_look);
    timer_mod(kernel_watch,
              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + KERNEL_WATCH_NS);
}

void hypertrace_kernel_watch_start(void)
{
    if (!kvm_enabled()) {
        return;
    }
    if (!kernel_look.queued) {
        hypertrace_vcpus_ask_init(&kernel_look, ht_kernel_watch_cpu);
    }
    if (!kernel_watch) {
        kernel_watch = timer_new_ns(QEMU_CLOCK_VIRTUAL, ht_kernel_watch_tick,
                                    NULL);
    }
    timer_mod(kernel_watch,
              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + KERNEL_WATCH_NS);
}

void hypertrace_kernel_watch_stop(void)
{
    if (kernel_watch) {
        timer_free(kernel_watch);
        kernel_watch = NULL;
    }
}
