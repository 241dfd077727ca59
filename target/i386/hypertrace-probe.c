/*
 * x86: hypertrace probes see the registers of the vCPU
 *
 * In 64-bit code a probe reads the SysV arguments (rdi, rsi, rdx, rcx,
 * r8, r9); elsewhere the first six 32-bit words above the return address
 * (cdecl).  The return value is rax (eax).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "cpu.h"
#include "system/hw_accel.h"
#include "hw/hypertrace/probe.h"
#include "hypertrace-probe.h"

static const int sysv_arg_regs[HYPERTRACE_PROBE_ARGS] = {
    R_EDI, R_ESI, R_EDX, R_ECX, 8, 9,
};

static void x86_probe_stack_args(HypertraceProbeHit *hit)
{
    uint8_t words[HYPERTRACE_PROBE_ARGS * 4];
    int i;

    if (!hypertrace_read_guest_ram(hit->cpu, hit->sp + 4, words,
                                   sizeof(words))) {
        return;     /* not in guest RAM: the arguments read as 0 */
    }
    for (i = 0; i < HYPERTRACE_PROBE_ARGS; i++) {
        hit->args[i] = ldl_le_p(words + 4 * i);
    }
}

void x86_hypertrace_probe(CPUX86State *env, uint64_t pc)
{
    bool code64 = env->hflags & HF_CS64_MASK;
    HypertraceProbeHit hit = {
        .cpu = env_cpu(env),
        .pc = pc,
        .slot = code64 ? 8 : 4,
    };
    int i;

    if (code64) {
        hit.sp = env->regs[R_ESP];
        hit.retval = env->regs[R_EAX];
        for (i = 0; i < HYPERTRACE_PROBE_ARGS; i++) {
            hit.args[i] = env->regs[sysv_arg_regs[i]];
        }
    } else {
        hit.sp = (uint32_t)(env->segs[R_SS].base + (uint32_t)
                            (env->hflags & HF_SS32_MASK ? env->regs[R_ESP]
                             : (uint16_t)env->regs[R_ESP]));
        hit.retval = (uint32_t)env->regs[R_EAX];
        x86_probe_stack_args(&hit);
    }
    hypertrace_probe_hit(&hit);
}

bool x86_hypertrace_kvm_debug(X86CPU *cpu, uint64_t pc)
{
    CPUState *cs = CPU(cpu);

    if (!qatomic_read(&hypertrace_probes_enabled)) {
        return false;
    }
    cpu_synchronize_state(cs);
    if (!hypertrace_probe_lookup(cs, pc)) {
        if (!hypertrace_probe_removed(pc)) {
            return false;   /* not ours: the debugger's, or the guest's */
        }
        cpu->env.eflags |= RF_MASK; /* ours, removed: this vCPU lags */
        return true;
    }
    x86_hypertrace_probe(&cpu->env, pc);
    cpu->env.eflags |= RF_MASK;     /* run the instruction, no new #DB */
    return true;
}
