/*
 * hypertrace sampling: where each vCPU is, so many times a second
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_HYPERTRACE_SAMPLE_H
#define HW_HYPERTRACE_SAMPLE_H

#define HYPERTRACE_SAMPLE_MAX_HZ 20000

/*
 * Record every vCPU's instruction pointer @hz times a second of the VM's
 * run time (QEMU_CLOCK_VIRTUAL), as trace event hypertrace_sample.  One
 * sampler per VM: false, with @errp set, if one runs already.
 */
bool hypertrace_sampler_start(uint32_t hz, Error **errp);
void hypertrace_sampler_stop(void);

/*
 * On @cs's own thread: the linear address of its next instruction, read
 * as a sample reads it (under KVM without syncing QEMU's register copy).
 */
bool hypertrace_vcpu_pc(CPUState *cs, uint64_t *pc);

/*
 * Run @answer on each vCPU's own thread, between two runs of guest code,
 * with at most one request queued per vCPU: one that has not answered
 * the last one is skipped, so a busy host loses answers and never piles
 * requests up.  Keep @ask alive as long as QEMU: a request may be queued.
 */
typedef struct HypertraceVcpuAsk {
    void (*answer)(CPUState *cs);
    bool *queued;               /* per vCPU index */
    int nr_queued;
} HypertraceVcpuAsk;

void hypertrace_vcpus_ask_init(HypertraceVcpuAsk *ask,
                               void (*answer)(CPUState *cs));
void hypertrace_vcpus_ask(HypertraceVcpuAsk *ask);

#endif
