/*
 * hypertrace guest/host ABI: the single source of truth.
 *
 * Shared by the QEMU device (hw/hypertrace/), the guest code (guest/), the
 * tests and docs/specs/hypertrace.rst.  Freestanding: it needs only the
 * compiler's <stdint.h> (<linux/types.h> inside Linux), so firmware, boot
 * loaders, kernels and user space can all include it.  All multi-byte
 * values are little-endian.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HYPERTRACE_ABI_H
#define HYPERTRACE_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>    /* the kernel has no <stdint.h> */
#else
#include <stdint.h>
#endif

/* PCI identity */
#define HT_PCI_VENDOR_ID        0x1af4  /* Red Hat, experimental range */
#define HT_PCI_DEVICE_ID        0x10f0
#define HT_PCI_REVISION         1
#define HT_PCI_CLASS            0x0580  /* memory controller, other */

#define HT_CTRL_BAR             0       /* 32-bit MMIO: registers */
#define HT_DATA_BAR             2       /* 64-bit prefetchable RAM: rings */
#define HT_CTRL_BAR_SIZE        0x8000

#define HT_MAGIC                0x43525448u /* "HTRC" */
#define HT_ABI_VERSION          1

/* HT_REG_FEATURES bits */
#define HT_FEAT_RINGS           (1u << 0)
#define HT_FEAT_SYNC            (1u << 1)
#define HT_FEAT_HYPERCALLS      (1u << 2)

/* HT_REG_MODE values: what a producer does when its ring is full */
#define HT_MODE_DISCARD         0       /* drop the new record, count it */
#define HT_MODE_OVERWRITE       1       /* flight recorder: keep the newest */

/*
 * Control BAR.  Every register is read and written with naturally aligned
 * 4- or 8-byte accesses; a 64-bit register may be read as two 4-byte halves
 * (low half first), an 8-byte access to two 32-bit registers reaches both.
 * Reads of unassigned offsets return 0 and writes to them or to read-only
 * registers are ignored; both count as a device error (HT_REG_ERRORS).
 */
#define HT_REG_MAGIC            0x000   /* u32 RO  HT_MAGIC */
#define HT_REG_VERSION          0x004   /* u32 RO  HT_ABI_VERSION */
#define HT_REG_FEATURES         0x008   /* u32 RO  HT_FEAT_* */
#define HT_REG_MODE             0x00c   /* u32 RO  HT_MODE_* */
#define HT_REG_NR_RINGS         0x010   /* u32 RO  rings in the data BAR */
#define HT_REG_RING_ORDER       0x014   /* u32 RO  log2(records per ring) */
#define HT_REG_RECORD_SIZE      0x018   /* u32 RO  sizeof(struct ht_record) */
#define HT_REG_NR_ARGS          0x01c   /* u32 RO  HT_NR_ARGS */
#define HT_REG_RING_STRIDE      0x020   /* u32 RO  bytes from ring i to i+1 */
#define HT_REG_NR_CLIENTS       0x024   /* u32 RO  synchronous emit slots */
#define HT_REG_WATERMARK        0x028   /* u32 RO  fill that rings the bell */
#define HT_REG_ERRORS           0x030   /* u64 RO  device-wide guest errors */

/* Per-ring registers: HT_RING_REG(ring, HT_RING_*) */
#define HT_RING_REGS_BASE       0x1000
#define HT_RING_REGS_STRIDE     0x40
#define HT_RING_REG(ring, reg)  (HT_RING_REGS_BASE + \
                                 (ring) * HT_RING_REGS_STRIDE + (reg))
#define HT_RING_STATUS          0x00    /* u32 RO  HT_RING_ST_* */
#define HT_RING_CONTROL         0x04    /* u32 WO  HT_RING_CTL_* */
#define HT_RING_PUBLISHED       0x08    /* u64 RO  producer index last seen */
#define HT_RING_CONSUMED        0x10    /* u64 RO  records emitted */
#define HT_RING_LOST            0x18    /* u64 RO  records lost */
#define HT_RING_ERRORS          0x20    /* u64 RO  guest errors on the ring */

#define HT_RING_ST_HALTED       (1u << 0) /* bad header seen: skipped */

#define HT_RING_CTL_DOORBELL    (1u << 0) /* drain this ring soon */
#define HT_RING_CTL_RESET       (1u << 1) /* drain, clear, un-halt */

/*
 * Synchronous emit slots, one per client (a client is a vCPU: client i
 * belongs to CPU i).  Write the arguments, then write the event id to
 * HT_CLIENT_EMIT: the device emits one event during that exit.
 */
#define HT_CLIENT_BASE          0x2000
#define HT_CLIENT_STRIDE        0x40
#define HT_CLIENT_REG(c, reg)   (HT_CLIENT_BASE + (c) * HT_CLIENT_STRIDE + (reg))
#define HT_CLIENT_ARG(i)        ((i) * 8) /* u64 RW  argument i */
#define HT_CLIENT_EMIT          0x30    /* u32 WO  event id: emit (an
                                           8-byte write's upper half is
                                           ignored) */

/* Limits the device enforces on its properties */
#define HT_NR_ARGS              6
#define HT_MAX_RINGS            64
#define HT_MAX_CLIENTS          256
#define HT_MIN_RING_ORDER       4       /* 16 records */
#define HT_MAX_RING_ORDER       20      /* 1 Mi records */
#define HT_MAX_DATA_SIZE        (1ull << 30)

/*
 * Data BAR: ring i starts at i * HT_REG_RING_STRIDE.  Each ring is a header
 * followed by (1 << HT_REG_RING_ORDER) records.  The producer, consumer and
 * lost words sit in cache lines of their own so that producers on several
 * CPUs and the consumer do not share a line they write.
 */
#define HT_CACHELINE            64

struct ht_ring_header {
    /* Next position to reserve.  Producers only (atomic). */
    uint64_t reserve;
    uint8_t pad0[HT_CACHELINE - 8];
    /* Next position the device will consume.  Device only (release). */
    uint64_t consumer;
    uint8_t pad1[HT_CACHELINE - 8];
    /* Records dropped by producers because the ring was full (atomic). */
    uint64_t lost;
    uint8_t pad2[HT_CACHELINE - 8];
    /* Geometry copied by the device at reset, for producers only. */
    uint32_t order;
    uint32_t mode;
    uint32_t watermark;
    uint32_t ring;
    uint32_t stride;    /* HT_REG_RING_STRIDE: finds ring i from ring 0 */
    uint8_t pad3[HT_CACHELINE - 20];
};

/*
 * A record.  A producer reserves position p, stores commit = 0, fills in
 * id, tsc and args, then stores commit = (uint32_t)(p + 1) with release
 * ordering.  The device takes the record only while commit equals that
 * value, before and after it copies the record.
 */
struct ht_record {
    uint32_t commit;
    uint32_t id;
    uint64_t tsc;
    uint64_t args[HT_NR_ARGS];
};

#define HT_RING_HEADER_SIZE     ((uint32_t)sizeof(struct ht_ring_header))
#define HT_RECORD_SIZE          ((uint32_t)sizeof(struct ht_record))

/*
 * A reservation not committed within this many nanoseconds of the ring's
 * vCPU's run time, from the device first seeing it, is skipped and counted
 * as lost, so that a producer that dies between reserve and commit never
 * blocks the ring.
 */
#define HT_COMMIT_TIMEOUT_NS    100000000ull /* 100 ms */

/* Guest error codes: the "code" of trace event hypertrace_guest_error */
enum ht_guest_error {
    HT_ERR_BAD_ACCESS = 1,      /* unassigned offset, RO write or WO read */
    HT_ERR_BAD_RING = 2,        /* ring register beyond HT_REG_NR_RINGS */
    HT_ERR_BAD_CLIENT = 3,      /* client slot beyond HT_REG_NR_CLIENTS */
    HT_ERR_BAD_CONTROL = 4,     /* unknown HT_RING_CTL_* bits */
    HT_ERR_RESERVE_BEHIND = 5,  /* reserve < consumer: ring halted */
    HT_ERR_RESERVE_AHEAD = 6,   /* discard mode, reserve - consumer > size */
    HT_ERR_LOST_DECREASED = 7,  /* header lost counter went backwards */
};

/* Value of the "ring" argument for errors that concern no ring */
#define HT_NO_RING              0xffffffffu

/* Hypercall channel (KVM's ABI: nr in RAX, a0..a3 in RBX, RCX, RDX, RSI) */
#define HT_HC_KERNEL_FUNC       1000 /* a0 fn, a1 0 entry / 1 exit, ... */
#define HT_HC_SCHED_SWITCH      1001 /* prev pid, prev tgid, next pid, tgid */
#define HT_HC_USER_FUNC         2000 /* a0 fn, a1 0 entry / 1 exit */
#define HT_HC_PROBE             999  /* never traced: do hypercalls work? */

#endif /* HYPERTRACE_ABI_H */
