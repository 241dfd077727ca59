/*
 * hypertrace: what it reads of an x86 vCPU under KVM
 *
 * KVM runs a guest's TSC at the host TSC's rate plus an offset, which it
 * sets when QEMU writes IA32_TSC (vCPU creation, reset) and when the guest
 * does.  QEMU's own tick counter knows nothing of it, so read it: the
 * guest's IA32_TSC between two reads of the host TSC.  A sample reads a
 * few registers straight from KVM.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "hw/core/cpu.h"
#include "system/kvm.h"
#include "hw/hypertrace/hypertrace.h"
#include "cpu.h"
#include "kvm_i386.h"
#include "hypertrace-probe.h"
#include <linux/kvm.h>

typedef struct TscOffsetRead {
    int64_t offset;
    int result;
} TscOffsetRead;

/*
 * Reads of the offset: keep the one whose host TSC reads lie closest, as
 * its error is at most half their distance.  A host that preempts the
 * vCPU thread during one read (nested KVM, a busy host) stretches that
 * read alone.
 */
#define HT_TSC_OFFSET_READS 3

/*
 * On the vCPU's own thread: its ioctls would wait for KVM_RUN to end.
 * While QEMU holds registers that it has not written to KVM yet (after a
 * reset, before the next KVM_RUN), KVM's offset is about to change.
 */
static void ht_read_tsc_offset(CPUState *cs, run_on_cpu_data data)
{
    TscOffsetRead *read = data.host_ptr;
    uint64_t before, tsc = 0, after, best = UINT64_MAX;
    int i;

    read->result = cs->vcpu_dirty ? 0 : -1;
    for (i = 0; i < HT_TSC_OFFSET_READS && !cs->vcpu_dirty; i++) {
        before = cpu_get_host_ticks();
        if (kvm_get_one_msr(X86_CPU(cs), MSR_IA32_TSC, &tsc) != 1) {
            return;
        }
        after = cpu_get_host_ticks();
        if (after - before < best) {
            best = after - before;
            read->offset = tsc - (before + (after - before) / 2);
            read->result = 1;
        }
    }
}

int hypertrace_kvm_tsc_offset(int64_t *offset)
{
    TscOffsetRead read = { .result = -1 };

    if (!kvm_enabled() || !first_cpu) {
        return -1;
    }
    run_on_cpu(first_cpu, ht_read_tsc_offset, RUN_ON_CPU_HOST_PTR(&read));
    *offset = read.offset;
    return read.result;
}

/*
 * KVM holds the registers: read the few a sample needs, without making
 * QEMU's copy of them the one the next KVM_RUN writes back.
 */
bool x86_hypertrace_kvm_sample(CPUState *cs, HypertraceX86Sample *smp)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;

    if (kvm_vcpu_ioctl(cs, KVM_GET_REGS, &regs) < 0 ||
        kvm_vcpu_ioctl(cs, KVM_GET_SREGS, &sregs) < 0) {
        return false;
    }
    smp->bits = sregs.cs.l ? 64 : sregs.cs.db ? 32 : 16;
    smp->pc = (smp->bits == 64 ? 0 : sregs.cs.base) + regs.rip;
    smp->protected_mode = sregs.cr0 & CR0_PE_MASK;
    smp->cpl = smp->protected_mode ? sregs.ss.dpl : 0;
    smp->halted = false;
    return true;
}
