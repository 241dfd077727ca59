/*
 * x86 TCG: vmcall and vmmcall as hypercalls (KVM's register ABI), handed
 * to the hypertrace channel.  Without a taker they raise #UD, as upstream.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "cpu.h"
#include "exec/helper-proto.h"
#include "exec/exec-all.h"
#include "tcg/helper-tcg.h"
#include "hw/hypertrace/hypercall.h"

void helper_hypercall(CPUX86State *env, uint32_t svm)
{
    /* Outside 64-bit code, KVM truncates everything to 32 bits. */
    target_ulong mask = env->hflags & HF_CS64_MASK ? (target_ulong)-1
                                                  : 0xffffffffu;
    HypertraceHypercall hc = {
        .cpu = env_cpu(env)->cpu_index,
        .cpl = env->hflags & HF_CPL_MASK,
        .nr = env->regs[R_EAX] & mask,
        .args = {
            env->regs[R_EBX] & mask, env->regs[R_ECX] & mask,
            env->regs[R_EDX] & mask, env->regs[R_ESI] & mask,
        },
    };
    int64_t ret;

    if (svm) {
        cpu_svm_check_intercept_param(env, SVM_EXIT_VMMCALL, 0, GETPC());
    }
    if (!hypertrace_hypercall(&hc, &ret)) {
        raise_exception_ra(env, EXCP06_ILLOP, GETPC());
    }
    env->regs[R_EAX] = ret & mask;
}
