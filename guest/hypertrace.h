/*
 * hypertrace guest header: every channel, freestanding.
 *
 * No libc and no kernel headers: firmware, boot loaders, kernels and user
 * space include it as it is.  Needs GCC or clang (inline asm, and the
 * __atomic builtins unless the includer defines HT_ATOMIC_* first), on
 * x86 in 32- or 64-bit mode.  The ABI is in
 * include/hypertrace/abi.h; the protocol is in docs/specs/hypertrace.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HYPERTRACE_GUEST_H
#define HYPERTRACE_GUEST_H

#include "hypertrace/abi.h"

/* Never traced by -finstrument-functions: the hooks themselves use these. */
#define HT_INLINE static inline __attribute__((no_instrument_function))

/*
 * Atomics on memory shared with the device.  The compiler's builtins by
 * default; a kernel defines its own primitives first (hypertrace.ko), a
 * test may define just the loads.
 * HT_ATOMIC_CMPXCHG(p, oldp, new): if *p == *oldp, *p = new and true;
 * otherwise *oldp = *p and false (may fail spuriously).
 */
#ifndef HT_ATOMIC_LOAD
#define HT_ATOMIC_LOAD(p)           __atomic_load_n((p), __ATOMIC_RELAXED)
#define HT_ATOMIC_LOAD_ACQUIRE(p)   __atomic_load_n((p), __ATOMIC_ACQUIRE)
#endif
#ifndef HT_ATOMIC_STORE
#define HT_ATOMIC_STORE(p, v)       __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define HT_ATOMIC_STORE_RELEASE(p, v) \
    __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define HT_ATOMIC_FENCE_RELEASE()   __atomic_thread_fence(__ATOMIC_RELEASE)
#define HT_ATOMIC_FETCH_INC(p)      __atomic_fetch_add((p), 1, __ATOMIC_RELAXED)
#define HT_ATOMIC_CMPXCHG(p, oldp, new) \
    __atomic_compare_exchange_n((p), (oldp), (new), 1, __ATOMIC_RELAXED, \
                                __ATOMIC_RELAXED)
#endif

/* ---- Hypercall channel: KVM's ABI, nr in RAX, a0..a3 in RBX..RSI ---- */

/*
 * Whether the CPU is AMD's or Hygon's, whose native hypercall is vmmcall:
 * KVM runs the other vendor's instruction only by emulating it after #UD,
 * and its emulator takes vmcall for privileged on AMD (CPL 3 gets #GP).
 * Decided once from CPUID leaf 0, per translation unit; a race only
 * decides it twice.
 */
HT_INLINE int ht_cpu_is_amd(void)
{
    static int vendor;          /* 0 unknown, 1 Intel and others, 2 AMD */
    int v = HT_ATOMIC_LOAD(&vendor);
    uint32_t eax = 0, ebx, ecx, edx;

    if (!v) {
        __asm__ volatile("cpuid"
                         : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
        /* "AuthenticAMD", "HygonGenuine": EBX "Auth" / "Hygo" */
        v = ebx == 0x68747541 || ebx == 0x6f677948 ? 2 : 1;
        HT_ATOMIC_STORE(&vendor, v);
    }
    return v == 2;
}

/*
 * One hypercall with the instruction native to the CPU's vendor (vmmcall
 * on AMD and Hygon, vmcall elsewhere), as Linux's own KVM guests do: it
 * exits natively at every CPL, under KVM and TCG.
 */
HT_INLINE long ht_hypercall(unsigned long nr, unsigned long a0,
                            unsigned long a1, unsigned long a2,
                            unsigned long a3)
{
    long ret;

    if (ht_cpu_is_amd()) {
        __asm__ volatile("vmmcall"
                         : "=a"(ret)
                         : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
                         : "memory");
    } else {
        __asm__ volatile("vmcall"
                         : "=a"(ret)
                         : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
                         : "memory");
    }
    return ret;
}

HT_INLINE uint64_t ht_rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* ---- MMIO helpers for the control BAR ---- */

/* Plain volatile accesses; a kernel defines its own accessors first. */
#ifndef HT_MMIO_READ32
#define HT_MMIO_READ32(p)       (*(volatile uint32_t *)(p))
#define HT_MMIO_WRITE32(p, v)   (*(volatile uint32_t *)(p) = (v))
#define HT_MMIO_WRITE64(p, v)   (*(volatile uint64_t *)(p) = (v))
#endif

HT_INLINE uint32_t ht_readl(volatile void *ctrl, uint32_t off)
{
    return HT_MMIO_READ32((volatile uint8_t *)ctrl + off);
}

HT_INLINE void ht_writel(volatile void *ctrl, uint32_t off, uint32_t v)
{
    HT_MMIO_WRITE32((volatile uint8_t *)ctrl + off, v);
}

/* One 8-byte store (one exit) in 64-bit code, two halves otherwise. */
HT_INLINE void ht_writeq(volatile void *ctrl, uint32_t off, uint64_t v)
{
#ifdef __x86_64__
    HT_MMIO_WRITE64((volatile uint8_t *)ctrl + off, v);
#else
    ht_writel(ctrl, off, (uint32_t)v);
    ht_writel(ctrl, off + 4, (uint32_t)(v >> 32));
#endif
}

HT_INLINE uint64_t ht_readq(volatile void *ctrl, uint32_t off)
{
    uint32_t lo = ht_readl(ctrl, off);

    return ((uint64_t)ht_readl(ctrl, off + 4) << 32) | lo;
}

/* ---- Synchronous channel: one exit, host-timestamped at that exit ---- */

/*
 * Each register write is one exit, so write only the arguments that
 * changed: the slot keeps the others from the previous event.
 */
HT_INLINE void ht_sync_emit_n(volatile void *ctrl, uint32_t client,
                                  uint32_t id, const uint64_t *args,
                                  int nargs)
{
    int i;

    for (i = 0; i < nargs && i < HT_NR_ARGS; i++) {
        ht_writeq(ctrl, HT_CLIENT_REG(client, HT_CLIENT_ARG(i)), args[i]);
    }
    ht_writel(ctrl, HT_CLIENT_REG(client, HT_CLIENT_EMIT), id);
}

HT_INLINE void ht_sync_emit(volatile void *ctrl, uint32_t client,
                                uint32_t id, const uint64_t *args)
{
    ht_sync_emit_n(ctrl, client, id, args, HT_NR_ARGS);
}

/* ---- Ring producer: no exit, safe for many producers per ring ---- */

struct ht_ring {
    struct ht_ring_header *hdr;
    struct ht_record *records;
    uint64_t size;
    uint32_t mode;
    uint32_t watermark;
    volatile void *ctrl;        /* for the doorbell; may be NULL */
    uint32_t index;
};

/*
 * @data is the mapped data BAR, @ctrl the mapped control BAR (or NULL when
 * only the data BAR is mapped: the device's periodic drain then does all
 * the work).  The ring's geometry comes from its header.
 */
HT_INLINE void ht_ring_init(struct ht_ring *r, void *data,
                                uint32_t stride, uint32_t index,
                                volatile void *ctrl)
{
    uint8_t *base = (uint8_t *)data + (uint64_t)stride * index;

    r->hdr = (struct ht_ring_header *)base;
    r->records = (struct ht_record *)(base + HT_RING_HEADER_SIZE);
    r->size = (uint64_t)1 << HT_ATOMIC_LOAD(&r->hdr->order);
    r->mode = HT_ATOMIC_LOAD(&r->hdr->mode);
    r->watermark = HT_ATOMIC_LOAD(&r->hdr->watermark);
    r->ctrl = ctrl;
    r->index = index;
}

/*
 * Reserve a position: returns 0 and sets *pos, or -1 if full (counted).
 * The consumer is read before reserve: it never passes reserve, so then
 * p - cons cannot wrap, even when other producers and the device moved
 * both between the two reads.
 */
HT_INLINE int ht_ring_reserve(struct ht_ring *r, uint64_t *pos)
{
    uint64_t p, cons;

    if (r->mode == HT_MODE_OVERWRITE) {
        *pos = HT_ATOMIC_FETCH_INC(&r->hdr->reserve);
        return 0;
    }
    do {
        cons = HT_ATOMIC_LOAD_ACQUIRE(&r->hdr->consumer);
        p = HT_ATOMIC_LOAD(&r->hdr->reserve);
        if (p - cons >= r->size) {
            HT_ATOMIC_FETCH_INC(&r->hdr->lost);
            return -1;
        }
    } while (!HT_ATOMIC_CMPXCHG(&r->hdr->reserve, &p, p + 1));
    *pos = p;
    if (r->ctrl && p - cons + 1 == r->watermark) {
        ht_writel(r->ctrl, HT_RING_REG(r->index, HT_RING_CONTROL),
                  HT_RING_CTL_DOORBELL);
    }
    return 0;
}

/*
 * Fill and commit position @pos.  The commit word is cleared first so
 * that a consumer reading an older record in this slot sees the change.
 */
HT_INLINE void ht_ring_commit(struct ht_ring *r, uint64_t pos,
                                  uint32_t id, uint64_t tsc,
                                  const uint64_t *args)
{
    struct ht_record *rec = &r->records[pos & (r->size - 1)];
    int i;

    HT_ATOMIC_STORE(&rec->commit, 0);
    HT_ATOMIC_FENCE_RELEASE();
    rec->id = id;
    rec->tsc = tsc;
    for (i = 0; i < HT_NR_ARGS; i++) {
        rec->args[i] = args[i];
    }
    HT_ATOMIC_STORE_RELEASE(&rec->commit, (uint32_t)(pos + 1));
}

/* Emit one event: 0 on success, -1 if the ring was full (discard mode). */
HT_INLINE int ht_ring_emit(struct ht_ring *r, uint32_t id,
                               const uint64_t *args)
{
    uint64_t pos;

    if (ht_ring_reserve(r, &pos)) {
        return -1;
    }
    ht_ring_commit(r, pos, id, ht_rdtsc(), args);
    return 0;
}

/* Ask the device to drain now (one exit). */
HT_INLINE void ht_ring_doorbell(struct ht_ring *r)
{
    if (r->ctrl) {
        ht_writel(r->ctrl, HT_RING_REG(r->index, HT_RING_CONTROL),
                  HT_RING_CTL_DOORBELL);
    }
}

#endif /* HYPERTRACE_GUEST_H */
