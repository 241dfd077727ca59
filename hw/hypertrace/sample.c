/*
 * hypertrace sampling: where each vCPU is, so many times a second
 *
 * A virtual-clock timer, which runs only while the VM does, asks every
 * vCPU for a sample.  The vCPU answers on its own thread between two runs
 * of guest code (TCG: at a translation block boundary; KVM: after its
 * kick made KVM_RUN return), where its registers can be read without
 * stopping the VM.  A vCPU that has not answered the last request yet
 * gets no new one: a busy host loses samples, it does not pile them up.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/atomic.h"
#include "qemu/timer.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "system/kvm.h"
#include "hw/hypertrace/sample.h"
#include "trace.h"

#if defined(TARGET_I386)
#include "cpu.h"
#ifdef CONFIG_KVM
#include <linux/kvm.h>
#endif

typedef struct Sample {
    uint64_t pc;                /* linear: CS base + IP */
    uint32_t cpl;
    uint32_t bits;              /* code size: 16, 32 or 64 */
    bool protected_mode;        /* CR0.PE */
    bool halted;                /* waiting for an interrupt (TCG only) */
} Sample;

typedef struct Sampler {
    QEMUTimer *timer;
    int64_t period_ns;
    int64_t next_ns;
    bool *asked;                /* per vCPU index: a request is queued */
    int nr_asked;
} Sampler;

static Sampler *sampler;

#ifdef CONFIG_KVM
/*
 * KVM holds the registers: read the few a sample needs, without making
 * QEMU's copy of them the one the next KVM_RUN writes back.
 */
static bool ht_sample_kvm(CPUState *cs, Sample *smp)
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
#endif

static bool ht_sample_read(CPUState *cs, Sample *smp)
{
    CPUX86State *env = cpu_env(cs);

#ifdef CONFIG_KVM
    if (kvm_enabled() && !cs->vcpu_dirty) {
        return ht_sample_kvm(cs, smp);
    }
#endif
    smp->pc = env->segs[R_CS].base + env->eip;
    smp->bits = env->hflags & HF_CS64_MASK ? 64 :
                env->hflags & HF_CS32_MASK ? 32 : 16;
    smp->cpl = env->hflags & HF_CPL_MASK;
    smp->protected_mode = env->cr[0] & CR0_PE_MASK;
    smp->halted = cs->halted;
    return true;
}

static void ht_sample_cpu(CPUState *cs, run_on_cpu_data data)
{
    Sample smp;

    qatomic_set(&sampler->asked[cs->cpu_index], false);
    if (ht_sample_read(cs, &smp)) {
        trace_hypertrace_sample(cs->cpu_index, smp.pc, smp.cpl, smp.bits,
                                smp.protected_mode, smp.halted);
    }
}

static void ht_sample_tick(void *opaque)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    CPUState *cs;

    CPU_FOREACH(cs) {
        if (cs->cpu_index < sampler->nr_asked &&
            !qatomic_xchg(&sampler->asked[cs->cpu_index], true)) {
            async_run_on_cpu(cs, ht_sample_cpu, RUN_ON_CPU_NULL);
        }
    }
    /* a late tick is not made up for: the next one keeps the period */
    sampler->next_ns = MAX(sampler->next_ns + sampler->period_ns,
                           now + sampler->period_ns / 2);
    timer_mod(sampler->timer, sampler->next_ns);
}

bool hypertrace_sampler_start(uint32_t hz, Error **errp)
{
    if (sampler && sampler->timer) {
        error_setg(errp, "hypertrace: another hypertrace device already "
                   "samples the vCPUs");
        error_append_hint(errp, "Give sample-hz= to one device only.\n");
        return false;
    }
    if (!sampler) {
        /* never freed: a request may still be queued on a vCPU */
        sampler = g_new0(Sampler, 1);
        sampler->nr_asked = current_machine->smp.max_cpus;
        sampler->asked = g_new0(bool, sampler->nr_asked);
    }
    sampler->period_ns = NANOSECONDS_PER_SECOND / hz;
    sampler->next_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                       sampler->period_ns;
    sampler->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, ht_sample_tick, NULL);
    timer_mod(sampler->timer, sampler->next_ns);
    return true;
}

void hypertrace_sampler_stop(void)
{
    if (sampler && sampler->timer) {
        timer_free(sampler->timer);
        sampler->timer = NULL;
    }
}

#else

bool hypertrace_sampler_start(uint32_t hz, Error **errp)
{
    error_setg(errp, "hypertrace: sample-hz= works on x86 guests only");
    return false;
}

void hypertrace_sampler_stop(void)
{
}

#endif
