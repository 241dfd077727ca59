/*
 * x86: hypertrace probes see the registers of the vCPU
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_HYPERTRACE_PROBE_H
#define TARGET_I386_HYPERTRACE_PROBE_H

/* A probed address is about to execute (TCG helper, KVM debug exit). */
void x86_hypertrace_probe(CPUX86State *env, uint64_t pc);

/*
 * KVM: a hardware breakpoint hit at @pc.  If it is a hypertrace probe,
 * record it and let the guest go on (RF), as if nothing had happened.
 */
bool x86_hypertrace_kvm_debug(X86CPU *cpu, uint64_t pc);

/* Where a vCPU is, for a sample (hw/hypertrace/sample.c). */
typedef struct HypertraceX86Sample {
    uint64_t pc;                /* linear: CS base + IP */
    uint32_t cpl;
    uint32_t bits;              /* code size: 16, 32 or 64 */
    bool protected_mode;        /* CR0.PE */
    bool halted;                /* waiting for an interrupt (TCG only) */
} HypertraceX86Sample;

/* KVM (kvm/hypertrace-vcpu.c): read from KVM, QEMU's copy untouched. */
bool x86_hypertrace_kvm_sample(CPUState *cs, HypertraceX86Sample *smp);

#endif
