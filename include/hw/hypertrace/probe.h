/*
 * hypertrace host-side probes on guest code: the accelerator interface
 *
 * A probe fires when a vCPU is about to execute a probed address: a
 * function entry, a return site of a probed call, or a built-in milestone.
 * TCG checks at translation time and calls a helper on probed
 * instructions only; KVM uses hardware breakpoints.  Neither changes
 * guest memory or what the guest sees.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_HYPERTRACE_PROBE_H
#define HW_HYPERTRACE_PROBE_H

#include "qemu/atomic.h"
#include "exec/hwaddr.h"
#include "exec/memattrs.h"
#include "exec/vaddr.h"
#include "qapi/qapi-types-hypertrace.h"

#define HYPERTRACE_PROBE_ARGS 6

/* Where x86-64 Linux maps its kernel, with or without KASLR */
#define HYPERTRACE_KERNEL_MAP_START 0xffffffff80000000ULL

/* What a vCPU shows at a probed address. */
typedef struct HypertraceProbeHit {
    CPUState *cpu;
    uint64_t pc;
    uint64_t sp;
    unsigned slot;              /* stack slot: 8 bytes in 64-bit code, 4 */
    uint64_t args[HYPERTRACE_PROBE_ARGS];
    uint64_t retval;
} HypertraceProbeHit;

extern bool hypertrace_probes_enabled;

bool hypertrace_probe_lookup(CPUState *cpu, uint64_t pc);
bool hypertrace_probe_removed(uint64_t pc);

/* Translation time: must @pc call the probe helper?  Free when no probe. */
static inline bool hypertrace_probe_at(CPUState *cpu, uint64_t pc)
{
    return unlikely(qatomic_read(&hypertrace_probes_enabled)) &&
           hypertrace_probe_lookup(cpu, pc);
}

/* Execution time, before the instruction at hit->pc runs. */
void hypertrace_probe_hit(const HypertraceProbeHit *hit);

/*
 * Read guest virtual memory at @addr into @buf, only where it is guest
 * RAM: MMIO reads have side effects and may take the BQL.  False, with
 * @buf partly written, when any byte is not in RAM or not mapped.
 */
bool hypertrace_read_guest_ram(CPUState *cpu, vaddr addr, void *buf,
                               size_t len);

/* Copy guest-physical @addr, only if all @len bytes are RAM. */
bool hypertrace_copy_guest_ram(CPUState *cpu, MemTxAttrs attrs, hwaddr addr,
                               void *out, hwaddr len);

/*
 * Target code: the guest-physical address of @addr as the vCPU maps it,
 * with its page tables read through hypertrace_copy_guest_ram(), never
 * from MMIO.  False if unmapped, or if a table is not in RAM.
 */
bool hypertrace_guest_phys(CPUState *cpu, vaddr addr, hwaddr *phys,
                           MemTxAttrs *attrs);

/*
 * Device side.  @probes lists names, globs and 0x addresses, separated
 * by ':' or ','; @symbols may be NULL when every probe is an address.
 */
bool hypertrace_probes_start(const char *symbols, const char *probes,
                             bool milestones, Error **errp);
void hypertrace_probes_stop(void);
void hypertrace_probes_reset(void);     /* a system reset: milestones rearm */
HypertraceProbeInfo *hypertrace_probes_info(void);

/*
 * KVM, kernel-watch.c: while kernel probes wait for the kernel to run,
 * a vCPU seen at @pc (on its own thread) checks it if it runs there.
 */
bool hypertrace_probe_kernel_unchecked(void);
void hypertrace_probe_seen(CPUState *cpu, uint64_t pc);
void hypertrace_kernel_watch_start(void);
void hypertrace_kernel_watch_stop(void);

/*
 * KVM (accel/kvm/hypertrace-breakpoints.c): hardware breakpoints, false
 * when KVM refuses one (none left).  The vCPUs get changes at update().
 */
bool hypertrace_kvm_breakpoint_insert(uint64_t addr);
bool hypertrace_kvm_breakpoint_remove(uint64_t addr);
void hypertrace_kvm_breakpoints_remove_all(void);
void hypertrace_kvm_breakpoints_update(void);

#endif
