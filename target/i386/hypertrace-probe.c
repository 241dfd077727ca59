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

/* One paging-structure entry of @size bytes, from guest RAM only. */
static bool x86_paging_entry(CPUState *cs, MemTxAttrs attrs, hwaddr addr,
                             int size, uint64_t *entry)
{
    uint8_t buf[8];

    if (!hypertrace_copy_guest_ram(cs, attrs, addr, buf, size)) {
        return false;
    }
    *entry = size == 8 ? ldq_le_p(buf) : ldl_le_p(buf);
    return true;
}

/*
 * The walk of x86_cpu_get_phys_page_attrs_debug(), whose table reads
 * would dispatch to MMIO where a guest put its page tables there.
 */
bool hypertrace_guest_phys(CPUState *cs, vaddr addr, hwaddr *phys,
                           MemTxAttrs *attrs)
{
    CPUX86State *env = cpu_env(cs);
    uint64_t a20 = (int32_t)x86_get_a20_mask(env);
    bool pae = env->cr[4] & CR4_PAE_MASK;
    bool la57 = env->cr[4] & CR4_LA57_MASK;
    int size = pae ? 8 : 4, bits = pae ? 9 : 10;
    int shift = 22;     /* of the top level's index: per mode below */
    uint64_t table = env->cr[3] & ~0xfffULL, entry;

    *attrs = cpu_get_mem_attrs(env);
    if (!(env->cr[0] & CR0_PG_MASK)) {
        *phys = addr & a20;
        return true;
    }
    if (env->hflags & HF_LMA_MASK) {
        int64_t sext = (int64_t)addr >> (la57 ? 56 : 47);

        if (sext != 0 && sext != -1) {
            return false;
        }
        shift = la57 ? 48 : 39;
    } else if (pae) {   /* the 4 PDPTEs, then two levels of 9 bits */
        if (!x86_paging_entry(cs, *attrs, ((env->cr[3] & ~0x1fULL) +
                                           ((addr >> 27) & 0x18)) & a20,
                              8, &entry) || !(entry & PG_PRESENT_MASK)) {
            return false;
        }
        table = entry & PG_ADDRESS_MASK;
        shift = 21;
    }
    for (;; shift -= bits) {
        uint64_t index = (addr >> shift) & ((1 << bits) - 1);
        uint64_t page_mask;

        if (!x86_paging_entry(cs, *attrs, (table + index * size) & a20,
                              size, &entry) || !(entry & PG_PRESENT_MASK)) {
            return false;
        }
        if (shift == 12 || ((entry & PG_PSE_MASK) && shift <= 30 &&
                            (pae || (env->cr[4] & CR4_PSE_MASK)))) {
            if (!pae && shift == 22) {  /* PSE-36: bits 39:32 */
                entry |= (entry & 0x1fe000ULL) << (32 - 13);
            }
            page_mask = (1ULL << shift) - 1;
            *phys = (((entry & PG_ADDRESS_MASK & ~page_mask) |
                      (addr & page_mask))) & (pae ? ~0ULL : a20);
            return true;
        }
        table = entry & (pae ? PG_ADDRESS_MASK : 0xfffff000ULL);
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
