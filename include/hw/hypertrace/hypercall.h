/*
 * hypertrace hypercall channel: the accelerator-independent entry point
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_HYPERTRACE_HYPERCALL_H
#define HW_HYPERTRACE_HYPERCALL_H

/* One hypercall, KVM's ABI: nr in RAX, args in RBX, RCX, RDX, RSI. */
typedef struct HypertraceHypercall {
    int cpu;
    int cpl;
    uint64_t nr;
    uint64_t args[4];
    uint64_t time_ns;   /* when it happened, CLOCK_MONOTONIC; 0: now */
} HypertraceHypercall;

/* KVM's return values, which the guest sees under every accelerator */
#define HYPERTRACE_HC_ENOSYS    (-1000)  /* -KVM_ENOSYS: at CPL 0 */
#define HYPERTRACE_HC_EPERM     (-1)     /* -KVM_EPERM: at CPL > 0 */

/*
 * Called by an accelerator for a guest vmcall/vmmcall.  Returns false when
 * no hypertrace device takes hypercalls: the guest then sees upstream
 * behaviour.  Otherwise sets *ret to the value for the guest's RAX.
 */
bool hypertrace_hypercall(const HypertraceHypercall *hc, int64_t *ret);

/* Record one hypercall seen by some other means (KVM: host tracepoint). */
void hypertrace_hypercall_record(const HypertraceHypercall *hc);

/* @count hypercalls that happened but could not be recorded. */
void hypertrace_hypercall_lost(uint64_t count);

/* A device takes hypercalls: at most one at a time. */
bool hypertrace_hypercall_claim(bool allow_user, Error **errp);
void hypertrace_hypercall_release(void);

/*
 * KVM: read kvm:kvm_hypercall of every vCPU thread (accel/kvm).  On
 * failure, warns once with the fix and returns false; QEMU keeps running.
 * Without KVM, start returns false (stubs).
 */
bool hypertrace_kvm_hypercalls_start(void);
void hypertrace_kvm_hypercalls_stop(void);

#endif
