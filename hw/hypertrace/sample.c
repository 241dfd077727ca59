/*
 * hypertrace sampling: where each vCPU is, so many times a second
 *
 * A thread of its own asks every vCPU for a sample each period of the
 * virtual clock, which runs only while the VM does.  The vCPU answers on
 * its own thread between two runs of guest code (TCG: at a translation
 * block boundary; KVM: after its kick made KVM_RUN return), where its
 * registers can be read without stopping the VM.  Not a main-loop timer:
 * the vCPU would wait for the main loop to let go of the BQL at every
 * sample.  A vCPU that has not answered the last request yet gets no new
 * one (hypertrace_vcpus_ask()): a busy host loses samples, it does not
 * pile them up.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#ifdef CONFIG_LINUX
#include <sys/prctl.h>
#endif
#include "qapi/error.h"
#include "qemu/atomic.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "system/kvm.h"
#include "hw/hypertrace/sample.h"
#include "trace.h"

static void ht_vcpu_answer(CPUState *cs, run_on_cpu_data data)
{
    HypertraceVcpuAsk *ask = data.host_ptr;

    qatomic_set(&ask->queued[cs->cpu_index], false);
    ask->answer(cs);
}

void hypertrace_vcpus_ask_init(HypertraceVcpuAsk *ask,
                               void (*answer)(CPUState *cs))
{
    ask->answer = answer;
    ask->nr_queued = current_machine->smp.max_cpus;
    ask->queued = g_new0(bool, ask->nr_queued);
}

void hypertrace_vcpus_ask(HypertraceVcpuAsk *ask)
{
    CPUState *cs;

    WITH_RCU_READ_LOCK_GUARD() {
        CPU_FOREACH(cs) {
            if (cs->cpu_index < ask->nr_queued &&
                !qatomic_xchg(&ask->queued[cs->cpu_index], true)) {
                async_run_on_cpu(cs, ht_vcpu_answer,
                                 RUN_ON_CPU_HOST_PTR(ask));
            }
        }
    }
}

#if defined(TARGET_I386)
#include "cpu.h"
#include "hypertrace-probe.h"

/* The longest sleep: how long a stop may wait for the thread to notice. */
#define SAMPLER_NAP_US 10000

typedef struct Sampler {
    QemuThread thread;
    bool running;
    bool quit;
    int64_t period_ns;
    HypertraceVcpuAsk ask;
} Sampler;

static Sampler *sampler;

static bool ht_sample_read(CPUState *cs, HypertraceX86Sample *smp)
{
    CPUX86State *env = cpu_env(cs);

#ifdef CONFIG_KVM
    if (kvm_enabled() && !cs->vcpu_dirty) {
        return x86_hypertrace_kvm_sample(cs, smp);
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

bool hypertrace_vcpu_pc(CPUState *cs, uint64_t *pc)
{
    HypertraceX86Sample smp;

    if (!ht_sample_read(cs, &smp)) {
        return false;
    }
    *pc = smp.pc;
    return true;
}

static void ht_sample_cpu(CPUState *cs)
{
    HypertraceX86Sample smp;

    if (ht_sample_read(cs, &smp)) {
        trace_hypertrace_sample(cs->cpu_index, smp.pc, smp.cpl, smp.bits,
                                smp.protected_mode, smp.halted);
    }
}

static void *ht_sampler_thread(void *opaque)
{
    int64_t next = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + sampler->period_ns;
    int64_t now;

    rcu_register_thread();
#ifdef CONFIG_LINUX
    /* Linux lets a sleep run 50 us late: half a period at 10 kHz */
    prctl(PR_SET_TIMERSLACK, sampler->period_ns / 100);
#endif
    while (!qatomic_read(&sampler->quit)) {
        now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
        if (now >= next) {
            hypertrace_vcpus_ask(&sampler->ask);
            /* a late request is not made up for: the period stays */
            next = MAX(next + sampler->period_ns,
                       now + sampler->period_ns / 2);
        }
        /* the virtual clock runs at the host's rate, or not at all */
        g_usleep(MIN(MAX((next - now) / SCALE_US, 1), SAMPLER_NAP_US));
    }
    rcu_unregister_thread();
    return NULL;
}

bool hypertrace_sampler_start(uint32_t hz, Error **errp)
{
    if (sampler && sampler->running) {
        error_setg(errp, "hypertrace: another hypertrace device already "
                   "samples the vCPUs");
        error_append_hint(errp, "Give sample-hz= to one device only.\n");
        return false;
    }
    if (!sampler) {
        /* never freed: a request may still be queued on a vCPU */
        sampler = g_new0(Sampler, 1);
        hypertrace_vcpus_ask_init(&sampler->ask, ht_sample_cpu);
    }
    sampler->period_ns = NANOSECONDS_PER_SECOND / hz;
    sampler->quit = false;
    sampler->running = true;
    qemu_thread_create(&sampler->thread, "ht-sampler", ht_sampler_thread,
                       NULL, QEMU_THREAD_JOINABLE);
    return true;
}

void hypertrace_sampler_stop(void)
{
    if (sampler && sampler->running) {
        qatomic_set(&sampler->quit, true);
        qemu_thread_join(&sampler->thread);
        sampler->running = false;
    }
}

#else

bool hypertrace_vcpu_pc(CPUState *cs, uint64_t *pc)
{
    return false;
}

bool hypertrace_sampler_start(uint32_t hz, Error **errp)
{
    error_setg(errp, "hypertrace: sample-hz= works on x86 guests only");
    return false;
}

void hypertrace_sampler_stop(void)
{
}

#endif
