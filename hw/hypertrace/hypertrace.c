/*
 * hypertrace: guest-to-host tracing device
 *
 * A control BAR (registers, doorbells, synchronous emit slots) and a
 * RAM-backed data BAR holding one shared-memory ring per vCPU.  Guests
 * publish ring records without a VM exit; a bounded consumer in the main
 * loop drains them into QEMU's trace backends.  The ABI lives in
 * include/hypertrace/abi.h and docs/specs/hypertrace.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/qdev-properties.h"
#include "hw/boards.h"
#include "migration/blocker.h"
#include "sysemu/cpu-timers.h"
#include "sysemu/cpus.h"
#include "sysemu/runstate.h"
#include "sysemu/kvm.h"
#include "sysemu/hostmem.h"
#include "hw/hypertrace/hypertrace.h"
#include "hw/hypertrace/hypercall.h"
#include "hw/hypertrace/probe.h"
#include "qapi/qapi-types-hypertrace.h"
#include "hypertrace/abi.h"
#include "trace.h"

QEMU_BUILD_BUG_ON(sizeof(struct ht_ring_header) != 4 * HT_CACHELINE);
QEMU_BUILD_BUG_ON(sizeof(struct ht_record) != HT_CACHELINE);
QEMU_BUILD_BUG_ON(HT_CLIENT_BASE + HT_MAX_CLIENTS * HT_CLIENT_STRIDE >
                  HT_CTRL_BAR_SIZE);
QEMU_BUILD_BUG_ON(HT_RING_REGS_BASE + HT_MAX_RINGS * HT_RING_REGS_STRIDE >
                  HT_CLIENT_BASE);

OBJECT_DECLARE_TYPE(HypertraceState, HypertraceClass, HYPERTRACE)

typedef struct HypertraceRing {
    uint64_t consumer;      /* authoritative; the header copy is for guests */
    uint64_t published;
    uint64_t consumed;
    uint64_t lost;
    uint64_t errors;
    uint64_t guest_lost;    /* header lost counter already accounted */
    uint64_t stall_pos;     /* uncommitted position being timed */
    int64_t stall_since_ns; /* 0 while nothing is stalled */
    bool halted;
} HypertraceRing;

typedef struct HypertraceClient {
    uint64_t args[HT_NR_ARGS];
} HypertraceClient;

/*
 * Guest TSC to host CLOCK_MONOTONIC nanoseconds: an anchor (guest TSC and
 * host time read back to back while the VM runs) and the TSC rate, which
 * is the host's and is measured over the device's whole life.  Under KVM
 * the guest TSC is the host's plus an offset, read again every second.
 */
typedef struct HypertraceClock {
    uint64_t host_tsc0;
    int64_t ns0;
    uint64_t anchor_tsc;
    int64_t anchor_ns;
    double ns_per_tick;
    int64_t kvm_tsc_offset;
    int64_t kvm_tsc_offset_ns;  /* when it was read; 0 to read it again */
} HypertraceClock;

struct HypertraceState {
    PCIDevice parent_obj;

    MemoryRegion ctrl;
    MemoryRegion data_ram;
    MemoryRegion *data;         /* data_ram, or the memdev's region */
    uint8_t *data_ptr;
    QEMUBH *drain_bh;
    QEMUTimer *drain_timer;
    VMChangeStateEntry *vmstate_entry;
    Error *migration_blocker;
    QTAILQ_ENTRY(HypertraceState) next;

    HypertraceRing *rings;
    HypertraceClient *clients;
    HypertraceClock clock;
    bool trace_stuck;           /* in this pass, the trace writer is */
    uint64_t errors;
    uint32_t ring_order;
    uint32_t ring_stride;
    uint32_t mode;

    /* properties */
    uint32_t nr_rings;
    uint32_t ring_size;
    uint32_t nr_clients;
    char *mode_name;
    uint32_t drain_period_us;
    uint32_t drain_budget;
    bool hypercalls;
    bool user_hypercalls;
    HostMemoryBackend *hostmem;
    char *symbols;
    char *probes;
    bool milestones;
};

static QTAILQ_HEAD(, HypertraceState) hypertrace_devices =
    QTAILQ_HEAD_INITIALIZER(hypertrace_devices);

/* Guest TSC: under TCG this is what RDTSC returns (tsc_offset aside). */
static uint64_t ht_guest_tsc(const HypertraceClock *c)
{
    if (kvm_enabled()) {
        return cpu_get_host_ticks() + c->kvm_tsc_offset;
    }
    return cpus_get_elapsed_ticks();
}

static void ht_clock_read_kvm_offset(HypertraceClock *c, int64_t now)
{
    if (!kvm_enabled() || !runstate_is_running() || qemu_in_vcpu_thread() ||
        (c->kvm_tsc_offset_ns &&
         now - c->kvm_tsc_offset_ns < NANOSECONDS_PER_SECOND)) {
        return;
    }
    if (!hypertrace_kvm_tsc_offset(&c->kvm_tsc_offset)) {
        warn_report_once("hypertrace: KVM did not give the guest's TSC; "
                         "ring record times may be off by a constant");
    }
    c->kvm_tsc_offset_ns = now;
}

static void ht_clock_update(HypertraceClock *c)
{
    uint64_t host_tsc = cpu_get_host_ticks();
    int64_t ns = get_clock();

    ht_clock_read_kvm_offset(c, ns);

    c->ns_per_tick = (double)(ns - c->ns0) /
                     (double)MAX(host_tsc - c->host_tsc0, 1);
    /* A stopped VM's TSC stands still: keep the anchor of its last run. */
    if (runstate_is_running()) {
        c->anchor_tsc = ht_guest_tsc(c);
        c->anchor_ns = get_clock();
    }
}

static void ht_clock_start(HypertraceClock *c)
{
    c->host_tsc0 = cpu_get_host_ticks();
    c->ns0 = get_clock();
    g_usleep(1000); /* a first rate; every drain pass refines it */
    c->anchor_tsc = ht_guest_tsc(c);
    c->anchor_ns = get_clock();
    ht_clock_update(c);
}

static uint64_t ht_clock_ns(const HypertraceClock *c, uint64_t tsc)
{
    double ns = c->anchor_ns +
                (double)(int64_t)(tsc - c->anchor_tsc) * c->ns_per_tick;

    /* The TSC is the guest's to write: keep any value in range. */
    return ns <= 0 ? 0 : ns >= 0x1p63 ? INT64_MAX : (uint64_t)ns;
}

static void ht_guest_error(HypertraceState *s, uint32_t ring, uint32_t code,
                           uint64_t value)
{
    s->errors++;
    if (ring < s->nr_rings) {
        s->rings[ring].errors++;
    }
    trace_hypertrace_guest_error(ring, code, value);
    qemu_log_mask(LOG_GUEST_ERROR,
                  "hypertrace: guest error %u on ring 0x%x, value 0x%" PRIx64
                  "\n", code, ring, value);
}

static inline uint32_t ht_ring_records(HypertraceState *s)
{
    return 1u << s->ring_order;
}

static struct ht_ring_header *ht_ring_header(HypertraceState *s, uint32_t r)
{
    return (struct ht_ring_header *)(s->data_ptr +
                                     (size_t)r * s->ring_stride);
}

static struct ht_record *ht_ring_record(HypertraceState *s, uint32_t r,
                                        uint64_t pos)
{
    uint8_t *base = (uint8_t *)ht_ring_header(s, r) + HT_RING_HEADER_SIZE;
    uint64_t slot = pos & (ht_ring_records(s) - 1);

    return (struct ht_record *)(base + slot * HT_RECORD_SIZE);
}

static void ht_ring_halt(HypertraceState *s, uint32_t r, uint32_t code,
                         uint64_t value)
{
    s->rings[r].halted = true;
    ht_guest_error(s, r, code, value);
}

static void ht_ring_lose(HypertraceState *s, uint32_t r, uint64_t count)
{
    s->rings[r].lost += count;
    trace_hypertrace_lost(r, count);
}

/* Account the records that producers dropped on a full ring. */
static void ht_ring_collect_guest_lost(HypertraceState *s, uint32_t r)
{
    HypertraceRing *ring = &s->rings[r];
    uint64_t lost = le64_to_cpu(qatomic_read(&ht_ring_header(s, r)->lost));

    if (lost < ring->guest_lost) {
        ht_guest_error(s, r, HT_ERR_LOST_DECREASED, lost);
    } else if (lost > ring->guest_lost) {
        ht_ring_lose(s, r, lost - ring->guest_lost);
    }
    ring->guest_lost = lost;
}

static void ht_emit_event(HypertraceState *s, uint32_t r,
                          const struct ht_record *rec)
{
    uint64_t tsc = le64_to_cpu(rec->tsc);
    uint64_t ns = ht_clock_ns(&s->clock, tsc);

    hypertrace_set_event_time(ns);
    trace_hypertrace_event(r, le32_to_cpu(rec->id), le64_to_cpu(rec->args[0]),
                           le64_to_cpu(rec->args[1]),
                           le64_to_cpu(rec->args[2]),
                           le64_to_cpu(rec->args[3]),
                           le64_to_cpu(rec->args[4]),
                           le64_to_cpu(rec->args[5]), tsc, ns);
    hypertrace_set_event_time(0);
}

typedef enum HtTake {
    HT_TAKE_RECORD,     /* copied out */
    HT_TAKE_LOST,       /* skipped: overwritten, or never committed */
    HT_TAKE_WAIT,       /* not committed yet: come back later */
} HtTake;

/*
 * Wait for the uncommitted record at the consumer position (the wait
 * starts when the device first sees it): true while its producer still
 * has time to commit it, HT_COMMIT_TIMEOUT_NS.
 */
static bool ht_ring_await_commit(HypertraceRing *ring, int64_t now)
{
    if (ring->stall_since_ns == 0 || ring->stall_pos != ring->consumer) {
        ring->stall_pos = ring->consumer;
        ring->stall_since_ns = now;
        return true;
    }
    return now - ring->stall_since_ns < HT_COMMIT_TIMEOUT_NS;
}

/*
 * Take the record at the consumer position into @copy.  A reservation
 * left uncommitted for HT_COMMIT_TIMEOUT_NS, or at all in a @final drain
 * (its producer is gone), is skipped and must be counted lost.
 */
static HtTake ht_ring_take(HypertraceState *s, uint32_t r, int64_t now,
                           bool final, struct ht_record *copy)
{
    HypertraceRing *ring = &s->rings[r];
    struct ht_record *rec = ht_ring_record(s, r, ring->consumer);
    uint32_t want = (uint32_t)(ring->consumer + 1);
    HtTake take = HT_TAKE_LOST; /* unless copied whole */

    if (le32_to_cpu(qatomic_load_acquire(&rec->commit)) == want) {
        memcpy(copy, rec, sizeof(*copy));
        smp_rmb();
        if (le32_to_cpu(qatomic_read(&rec->commit)) == want) {
            ring->consumed++;
            take = HT_TAKE_RECORD;
        }
    } else if (!final && ht_ring_await_commit(ring, now)) {
        return HT_TAKE_WAIT;
    }
    ring->stall_since_ns = 0;
    ring->consumer++;
    return take;
}

/* A bound on one hypertrace_event in any backend's buffer. */
#define HT_TRACE_RECORD_MAX 256

/*
 * Records copied out of a ring before they are emitted: their cache misses
 * (the records sit in another CPU's cache, or in DRAM) overlap, and the
 * trace backend is asked for room once per batch.
 */
#define HT_TAKE_BATCH 16

/*
 * Whether to emit a batch of records now.  Leave records in the ring,
 * which the guest sized for its bursts, rather than have a full trace
 * buffer drop them: the drain timer comes back for them.  A drain of
 * everything (@drain_all) waits for the trace writer instead, and if it is
 * stuck (trace-file off, a pipe nobody reads), lets the backend drop and
 * count the rest of the pass.
 */
static bool ht_trace_takes_batch(HypertraceState *s, bool drain_all)
{
    if (!trace_event_get_state_backends(TRACE_HYPERTRACE_EVENT) ||
        (drain_all && s->trace_stuck) ||
        hypertrace_trace_has_room(HT_TAKE_BATCH * HT_TRACE_RECORD_MAX,
                                  drain_all)) {
        return true;
    }
    s->trace_stuck = drain_all;
    return drain_all;
}

static void ht_emit_batch(HypertraceState *s, uint32_t r,
                          const struct ht_record *batch, uint32_t n)
{
    uint32_t i;

    if (!n) {
        return;
    }
    hypertrace_trace_batch_begin();
    for (i = 0; i < n; i++) {
        ht_emit_event(s, r, &batch[i]);
    }
    hypertrace_trace_batch_end();
}

/*
 * Take and emit the records of ring @r below @reserve, at most @budget,
 * in position order with each loss in its place; false if the trace had
 * no room for them.
 */
static bool ht_ring_emit(HypertraceState *s, uint32_t r, uint64_t reserve,
                         uint32_t *budget, bool final)
{
    HypertraceRing *ring = &s->rings[r];
    struct ht_record batch[HT_TAKE_BATCH];
    int64_t now = get_clock();
    bool drain_all = *budget == UINT32_MAX;
    bool room = true;
    uint32_t n = 0;
    HtTake take;

    while (ring->consumer < reserve && *budget > 0) {
        if (n == 0 && !ht_trace_takes_batch(s, drain_all)) {
            room = false;
            break;
        }
        take = ht_ring_take(s, r, now, final, &batch[n]);
        if (take == HT_TAKE_WAIT) {
            break;
        }
        (*budget)--;
        if (take == HT_TAKE_LOST) {
            ht_emit_batch(s, r, batch, n); /* the records before it first */
            n = 0;
            ht_ring_lose(s, r, 1);
        } else if (++n == HT_TAKE_BATCH) {
            ht_emit_batch(s, r, batch, n);
            n = 0;
        }
    }
    ht_emit_batch(s, r, batch, n);
    return room;
}

/*
 * Drain at most @budget records of ring @r (UINT32_MAX: all of them);
 * true if more are waiting and the trace can take them now.
 */
static bool ht_ring_drain(HypertraceState *s, uint32_t r, uint32_t budget,
                          bool final)
{
    HypertraceRing *ring = &s->rings[r];
    struct ht_ring_header *hdr = ht_ring_header(s, r);
    uint64_t size = ht_ring_records(s);
    uint64_t reserve, avail;
    bool room;

    if (ring->halted) {
        return false;
    }
    reserve = le64_to_cpu(qatomic_load_acquire(&hdr->reserve));
    if (reserve < ring->consumer) {
        ht_ring_halt(s, r, HT_ERR_RESERVE_BEHIND, reserve);
        return false;
    }
    avail = reserve - ring->consumer;
    if (avail > size) {
        if (s->mode == HT_MODE_DISCARD) {
            ht_ring_halt(s, r, HT_ERR_RESERVE_AHEAD, reserve);
            return false;
        }
        ht_ring_lose(s, r, avail - size); /* overwritten before we came */
        ring->consumer = reserve - size;
    }
    ring->published = reserve;
    room = ht_ring_emit(s, r, reserve, &budget, final);
    qatomic_store_release(&hdr->consumer, cpu_to_le64(ring->consumer));
    ht_ring_collect_guest_lost(s, r);
    return ring->consumer < reserve && budget == 0 && room;
}

static void ht_drain(HypertraceState *s, uint32_t budget, bool final)
{
    bool more = false;
    uint32_t r;

    ht_clock_update(&s->clock);
    s->trace_stuck = false;
    for (r = 0; r < s->nr_rings; r++) {
        more |= ht_ring_drain(s, r, budget, final);
    }
    if (more) {
        qemu_bh_schedule(s->drain_bh); /* yield to the main loop first */
    }
}

/*
 * Drain everything that is committed: for stops, where the guest may
 * still resume, and @final for resets and exit, where it will not.
 */
static void ht_drain_all(HypertraceState *s, bool final)
{
    ht_drain(s, UINT32_MAX, final);
}

static void ht_drain_bh(void *opaque)
{
    HypertraceState *s = opaque;

    ht_drain(s, s->drain_budget, false);
}

static void ht_drain_timer(void *opaque)
{
    HypertraceState *s = opaque;

    ht_drain(s, s->drain_budget, false);
    timer_mod(s->drain_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              (int64_t)s->drain_period_us * SCALE_US);
}

static void ht_ring_reset(HypertraceState *s, uint32_t r)
{
    struct ht_ring_header *hdr = ht_ring_header(s, r);
    HypertraceRing *ring = &s->rings[r];

    memset(hdr, 0, s->ring_stride);
    hdr->order = cpu_to_le32(s->ring_order);
    hdr->mode = cpu_to_le32(s->mode);
    hdr->watermark = cpu_to_le32(ht_ring_records(s) / 2);
    hdr->ring = cpu_to_le32(r);
    hdr->stride = cpu_to_le32(s->ring_stride);
    ring->consumer = 0;
    ring->published = 0;
    ring->guest_lost = 0;
    ring->stall_since_ns = 0;
    ring->halted = false;
}

/*
 * A guest may reset at will, so this exit drains one budget's worth like
 * any pass; what it leaves behind is counted lost.
 */
static void ht_ring_drain_for_reset(HypertraceState *s, uint32_t r)
{
    HypertraceRing *ring = &s->rings[r];

    ht_ring_drain(s, r, s->drain_budget, false);
    if (!ring->halted && ring->published > ring->consumer) {
        ht_ring_lose(s, r, ring->published - ring->consumer);
    }
}

static void ht_ring_control(HypertraceState *s, uint32_t r, uint32_t val)
{
    if (val & ~(HT_RING_CTL_DOORBELL | HT_RING_CTL_RESET)) {
        ht_guest_error(s, r, HT_ERR_BAD_CONTROL, val);
        return;
    }
    if (val & HT_RING_CTL_RESET) {
        ht_ring_drain_for_reset(s, r);
        ht_ring_reset(s, r);
    }
    if (val & HT_RING_CTL_DOORBELL) {
        qemu_bh_schedule(s->drain_bh);
    }
}

static void ht_sync_emit(HypertraceState *s, uint32_t c, uint32_t id)
{
    uint64_t *a = s->clients[c].args;

    trace_hypertrace_sync(c, id, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static uint64_t ht_hi_lo(uint64_t v, hwaddr off)
{
    return off & 4 ? v >> 32 : (uint32_t)v;
}

/*
 * Split @off in a block of @count slots of @stride bytes from @base into a
 * slot index and an offset in it.  False (an error counted) when the slot
 * does not exist.
 */
static bool ht_slot(HypertraceState *s, hwaddr off, hwaddr base,
                    hwaddr stride, uint32_t count, uint32_t code,
                    uint32_t *idx, hwaddr *reg)
{
    *idx = (off - base) / stride;
    *reg = (off - base) % stride;
    if (*idx >= count) {
        ht_guest_error(s, HT_NO_RING, code, off);
        return false;
    }
    return true;
}

static bool ht_ring_slot(HypertraceState *s, hwaddr off, uint32_t *r,
                         hwaddr *reg)
{
    return ht_slot(s, off, HT_RING_REGS_BASE, HT_RING_REGS_STRIDE,
                   s->nr_rings, HT_ERR_BAD_RING, r, reg);
}

static bool ht_client_slot(HypertraceState *s, hwaddr off, uint32_t *c,
                           hwaddr *reg)
{
    return ht_slot(s, off, HT_CLIENT_BASE, HT_CLIENT_STRIDE, s->nr_clients,
                   HT_ERR_BAD_CLIENT, c, reg);
}

/* Returns false for an offset that holds no readable register. */
static bool ht_ring_read32(HypertraceState *s, hwaddr off, uint32_t *val)
{
    HypertraceRing *ring;
    uint32_t r;
    hwaddr reg;

    if (!ht_ring_slot(s, off, &r, &reg)) {
        return true; /* already counted as HT_ERR_BAD_RING */
    }
    ring = &s->rings[r];
    switch (reg & ~7) {
    case HT_RING_STATUS:
        if (reg != HT_RING_STATUS) {
            return false; /* HT_RING_CONTROL is write-only */
        }
        *val = ring->halted ? HT_RING_ST_HALTED : 0;
        return true;
    case HT_RING_PUBLISHED:
        *val = ht_hi_lo(ring->published, reg);
        return true;
    case HT_RING_CONSUMED:
        *val = ht_hi_lo(ring->consumed, reg);
        return true;
    case HT_RING_LOST:
        *val = ht_hi_lo(ring->lost, reg);
        return true;
    case HT_RING_ERRORS:
        *val = ht_hi_lo(ring->errors, reg);
        return true;
    }
    return false;
}

static bool ht_client_read32(HypertraceState *s, hwaddr off, uint32_t *val)
{
    uint32_t c;
    hwaddr reg;

    if (!ht_client_slot(s, off, &c, &reg)) {
        return true; /* already counted as HT_ERR_BAD_CLIENT */
    }
    if (reg >= HT_CLIENT_ARG(HT_NR_ARGS)) {
        return false;
    }
    *val = ht_hi_lo(s->clients[c].args[reg / 8], reg);
    return true;
}

static bool ht_global_read32(HypertraceState *s, hwaddr off, uint32_t *val)
{
    switch (off) {
    case HT_REG_MAGIC:
        *val = HT_MAGIC;
        return true;
    case HT_REG_VERSION:
        *val = HT_ABI_VERSION;
        return true;
    case HT_REG_FEATURES:
        *val = HT_FEAT_RINGS | HT_FEAT_SYNC |
               (s->hypercalls ? HT_FEAT_HYPERCALLS : 0);
        return true;
    case HT_REG_MODE:
        *val = s->mode;
        return true;
    case HT_REG_NR_RINGS:
        *val = s->nr_rings;
        return true;
    case HT_REG_RING_ORDER:
        *val = s->ring_order;
        return true;
    case HT_REG_RECORD_SIZE:
        *val = HT_RECORD_SIZE;
        return true;
    case HT_REG_NR_ARGS:
        *val = HT_NR_ARGS;
        return true;
    case HT_REG_RING_STRIDE:
        *val = s->ring_stride;
        return true;
    case HT_REG_NR_CLIENTS:
        *val = s->nr_clients;
        return true;
    case HT_REG_WATERMARK:
        *val = ht_ring_records(s) / 2;
        return true;
    case HT_REG_ERRORS:
    case HT_REG_ERRORS + 4:
        *val = ht_hi_lo(s->errors, off);
        return true;
    }
    return false;
}

static uint32_t ht_ctrl_read32(HypertraceState *s, hwaddr off)
{
    uint32_t val = 0;
    bool ok;

    if (off >= HT_CLIENT_BASE) {
        ok = ht_client_read32(s, off, &val);
    } else if (off >= HT_RING_REGS_BASE) {
        ok = ht_ring_read32(s, off, &val);
    } else {
        ok = ht_global_read32(s, off, &val);
    }
    if (!ok) {
        ht_guest_error(s, HT_NO_RING, HT_ERR_BAD_ACCESS, off);
    }
    return val;
}

static bool ht_ctrl_write32(HypertraceState *s, hwaddr off, uint32_t val)
{
    uint32_t idx;
    hwaddr reg;

    if (off >= HT_CLIENT_BASE) {
        if (!ht_client_slot(s, off, &idx, &reg)) {
            return true;
        }
        if (reg < HT_CLIENT_ARG(HT_NR_ARGS)) {
            uint64_t *arg = &s->clients[idx].args[reg / 8];
            *arg = deposit64(*arg, reg & 4 ? 32 : 0, 32, val);
            return true;
        }
        if (reg == HT_CLIENT_EMIT) {
            ht_sync_emit(s, idx, val);
            return true;
        }
        return reg == HT_CLIENT_EMIT + 4; /* an 8-byte emit's upper half */
    }
    if (off >= HT_RING_REGS_BASE) {
        if (!ht_ring_slot(s, off, &idx, &reg)) {
            return true;
        }
        if (reg == HT_RING_CONTROL) {
            ht_ring_control(s, idx, val);
            return true;
        }
    }
    return false;
}

static uint64_t ht_ctrl_read(void *opaque, hwaddr addr, unsigned size)
{
    HypertraceState *s = opaque;
    uint64_t val = ht_ctrl_read32(s, addr);

    if (size == 8) {
        val |= (uint64_t)ht_ctrl_read32(s, addr + 4) << 32;
    }
    return val;
}

static void ht_ctrl_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
    HypertraceState *s = opaque;

    if (!ht_ctrl_write32(s, addr, val)) {
        ht_guest_error(s, HT_NO_RING, HT_ERR_BAD_ACCESS, addr);
    }
    if (size == 8 && !ht_ctrl_write32(s, addr + 4, val >> 32)) {
        ht_guest_error(s, HT_NO_RING, HT_ERR_BAD_ACCESS, addr + 4);
    }
}

static const MemoryRegionOps ht_ctrl_ops = {
    .read = ht_ctrl_read,
    .write = ht_ctrl_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

static bool ht_check_range(const char *prop, uint64_t val, uint64_t min,
                           uint64_t max, Error **errp)
{
    if (val < min || val > max) {
        error_setg(errp, "hypertrace: %s=%" PRIu64 " is out of range",
                   prop, val);
        error_append_hint(errp, "Use a value from %" PRIu64 " to %" PRIu64
                          ".\n", min, max);
        return false;
    }
    return true;
}

static bool ht_check_props(HypertraceState *s, Error **errp)
{
    unsigned int cpus = current_machine->smp.max_cpus;
    uint64_t data_size;

    if (!s->nr_rings) {
        s->nr_rings = MIN(cpus, HT_MAX_RINGS);
    }
    if (!s->nr_clients) {
        s->nr_clients = MIN(cpus, HT_MAX_CLIENTS);
    }
    if (!ht_check_range("rings", s->nr_rings, 1, HT_MAX_RINGS, errp) ||
        !ht_check_range("clients", s->nr_clients, 1, HT_MAX_CLIENTS, errp) ||
        !ht_check_range("ring-size", s->ring_size, 1u << HT_MIN_RING_ORDER,
                        1u << HT_MAX_RING_ORDER, errp) ||
        !ht_check_range("drain-period-us", s->drain_period_us, 10,
                        10 * 1000 * 1000, errp) ||
        !ht_check_range("drain-budget", s->drain_budget, 1, 1u << 24,
                        errp)) {
        return false;
    }
    if (!is_power_of_2(s->ring_size)) {
        error_setg(errp, "hypertrace: ring-size=%u is not a power of two",
                   s->ring_size);
        error_append_hint(errp, "Use a power of two from %u to %u.\n",
                          1u << HT_MIN_RING_ORDER, 1u << HT_MAX_RING_ORDER);
        return false;
    }
    if (!strcmp(s->mode_name, "discard")) {
        s->mode = HT_MODE_DISCARD;
    } else if (!strcmp(s->mode_name, "overwrite")) {
        s->mode = HT_MODE_OVERWRITE;
    } else {
        error_setg(errp, "hypertrace: mode=%s is not a ring mode",
                   s->mode_name);
        error_append_hint(errp, "Use mode=discard or mode=overwrite.\n");
        return false;
    }
    s->ring_order = ctz32(s->ring_size);
    s->ring_stride = ROUND_UP(HT_RING_HEADER_SIZE +
                              s->ring_size * HT_RECORD_SIZE, 4 * KiB);
    data_size = (uint64_t)s->ring_stride * s->nr_rings;
    if (data_size > HT_MAX_DATA_SIZE) {
        error_setg(errp, "hypertrace: rings=%u x ring-size=%u needs %" PRIu64
                   " MiB of ring memory, more than %llu MiB", s->nr_rings,
                   s->ring_size, data_size / MiB, HT_MAX_DATA_SIZE / MiB);
        error_append_hint(errp, "Lower rings or ring-size.\n");
        return false;
    }
    return true;
}

static void ht_vm_state_change(void *opaque, bool running, RunState state)
{
    HypertraceState *s = opaque;

    uint32_t r;

    if (running) {
        s->clock.kvm_tsc_offset_ns = 0; /* KVM may have moved it */
        ht_clock_update(&s->clock); /* the TSC runs again from here */
        for (r = 0; r < s->nr_rings; r++) {
            s->rings[r].stall_since_ns = 0; /* producers were stopped */
        }
    } else {
        ht_drain_all(s, false);
    }
}

/* The data BAR: private RAM, or a memory backend others may map too. */
static bool ht_init_data(HypertraceState *s, uint64_t size, Error **errp)
{
    ERRP_GUARD();
    uint64_t have;

    if (!s->hostmem) {
        s->data = &s->data_ram;
        memory_region_init_ram(&s->data_ram, OBJECT(s), "hypertrace-data",
                               size, errp);
        return !*errp;
    }
    if (host_memory_backend_is_mapped(s->hostmem)) {
        error_setg(errp, "hypertrace: memdev %s is already in use",
                   object_get_canonical_path_component(OBJECT(s->hostmem)));
        return false;
    }
    have = memory_region_size(host_memory_backend_get_memory(s->hostmem));
    if (have < size || !is_power_of_2(have)) {
        error_setg(errp, "hypertrace: memdev %s has %" PRIu64 " bytes; "
                   "these rings need a power of two of at least %" PRIu64,
                   object_get_canonical_path_component(OBJECT(s->hostmem)),
                   have, size);
        error_append_hint(errp, "Give the memory backend size=%" PRIu64
                          ".\n", size);
        return false;
    }
    s->data = host_memory_backend_get_memory(s->hostmem);
    host_memory_backend_set_mapped(s->hostmem, true);
    return true;
}

/* Undo ht_init_data() and the migration blocker. */
static void ht_release_data(HypertraceState *s)
{
    if (s->hostmem) {
        host_memory_backend_set_mapped(s->hostmem, false);
    }
    if (s->migration_blocker) {
        migrate_del_blocker(s->migration_blocker);
        g_clear_pointer(&s->migration_blocker, error_free);
    }
}

static void ht_release_hypercalls(HypertraceState *s)
{
    if (s->hypercalls) {
#ifdef CONFIG_LINUX
        hypertrace_kvm_hypercalls_stop();
#endif
        hypertrace_hypercall_release();
    }
}

/* Runs before the simple backend's own atexit flush: see realize. */
static void ht_drain_at_exit(void)
{
    HypertraceState *s;

    QTAILQ_FOREACH(s, &hypertrace_devices, next) {
        ht_drain_all(s, true);
        ht_release_hypercalls(s);
    }
}

/*
 * Probes and milestones belong to the whole VM: the first device that
 * wants them gets them.  Naming probes on a second device is an error.
 */
static HypertraceState *probe_owner;

static bool ht_start_probes(HypertraceState *s, Error **errp)
{
    if (probe_owner) {
        if (s->probes || s->symbols) {
            error_setg(errp, "hypertrace: another hypertrace device already "
                       "has the probes");
            error_append_hint(errp, "Give symbols= and probes= to one "
                              "device only.\n");
            return false;
        }
        return true;
    }
    if (!s->milestones && !s->probes) {
        return true;
    }
    if (!hypertrace_probes_start(s->symbols, s->probes, s->milestones,
                                 errp)) {
        return false;
    }
    probe_owner = s;
    return true;
}

static void ht_stop_probes(HypertraceState *s)
{
    if (probe_owner == s) {
        hypertrace_probes_stop();
        probe_owner = NULL;
    }
}

static void ht_start_hypercalls(HypertraceState *s)
{
#ifdef CONFIG_LINUX
    if (s->hypercalls && kvm_enabled()) {
        hypertrace_kvm_hypercalls_start();
    }
#endif
}

static void ht_realize(PCIDevice *pdev, Error **errp)
{
    HypertraceState *s = HYPERTRACE(pdev);
    static bool atexit_done;
    uint64_t data_size;
    uint32_t r;

    if (!ht_check_props(s, errp)) {
        return;
    }
    data_size = pow2ceil((uint64_t)s->ring_stride * s->nr_rings);
    if (!ht_init_data(s, data_size, errp)) {
        return;
    }
    error_setg(&s->migration_blocker, "hypertrace: migration is not "
               "supported; its rings hold host-side consumer state");
    if (migrate_add_blocker(s->migration_blocker, errp) < 0) {
        ht_release_data(s);
        return;
    }
    if (s->hypercalls &&
        !hypertrace_hypercall_claim(s->user_hypercalls, errp)) {
        ht_release_data(s);
        return;
    }
    if (!ht_start_probes(s, errp)) {
        ht_release_hypercalls(s);
        ht_release_data(s);
        return;
    }
    memory_region_init_io(&s->ctrl, OBJECT(s), &ht_ctrl_ops, s,
                          "hypertrace-ctrl", HT_CTRL_BAR_SIZE);
    s->data_ptr = memory_region_get_ram_ptr(s->data);
    pci_register_bar(pdev, HT_CTRL_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->ctrl);
    pci_register_bar(pdev, HT_DATA_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, s->data);

    s->rings = g_new0(HypertraceRing, s->nr_rings);
    s->clients = g_new0(HypertraceClient, s->nr_clients);
    for (r = 0; r < s->nr_rings; r++) {
        ht_ring_reset(s, r);
    }
    ht_clock_start(&s->clock);
    s->drain_bh = qemu_bh_new(ht_drain_bh, s);
    s->drain_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, ht_drain_timer, s);
    timer_mod(s->drain_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              (int64_t)s->drain_period_us * SCALE_US);
    s->vmstate_entry = qemu_add_vm_change_state_handler(ht_vm_state_change,
                                                        s);
    ht_start_hypercalls(s);
    QTAILQ_INSERT_TAIL(&hypertrace_devices, s, next);
    /*
     * Exit notifiers run after the trace backends' atexit flush, because
     * they were registered first; our own atexit handler runs before it.
     */
    if (!atexit_done) {
        atexit(ht_drain_at_exit);
        atexit_done = true;
    }
}

static void ht_exit(PCIDevice *pdev)
{
    HypertraceState *s = HYPERTRACE(pdev);

    ht_drain_all(s, true);
    ht_release_hypercalls(s);
    ht_stop_probes(s);
    QTAILQ_REMOVE(&hypertrace_devices, s, next);
    qemu_del_vm_change_state_handler(s->vmstate_entry);
    timer_free(s->drain_timer);
    qemu_bh_delete(s->drain_bh);
    g_free(s->rings);
    g_free(s->clients);
    ht_release_data(s);
}

static void ht_reset(DeviceState *dev)
{
    HypertraceState *s = HYPERTRACE(dev);
    uint32_t r;

    if (!s->rings) {
        return;
    }
    if (probe_owner == s) {
        hypertrace_probes_reset();
    }
    ht_drain_all(s, true); /* what was published before the reset is kept */
    s->clock.kvm_tsc_offset_ns = 0; /* the CPUs' reset writes IA32_TSC */
    for (r = 0; r < s->nr_rings; r++) {
        ht_ring_reset(s, r);
    }
    memset(s->clients, 0, sizeof(*s->clients) * s->nr_clients);
}

static HypertraceInfo *ht_query(Object *obj)
{
    HypertraceState *s = HYPERTRACE(obj);
    HypertraceInfo *info = g_new0(HypertraceInfo, 1);
    HypertraceRingInfoList **tail = &info->rings;
    uint32_t r;

    info->path = object_get_canonical_path(obj);
    info->mode = g_strdup(s->mode_name);
    info->ring_size = ht_ring_records(s);
    info->clients = s->nr_clients;
    info->errors = s->errors;
    for (r = 0; r < s->nr_rings; r++) {
        HypertraceRingInfo *ri = g_new0(HypertraceRingInfo, 1);

        ri->ring = r;
        ri->published = s->rings[r].published;
        ri->consumed = s->rings[r].consumed;
        ri->lost = s->rings[r].lost;
        ri->errors = s->rings[r].errors;
        ri->halted = s->rings[r].halted;
        QAPI_LIST_APPEND(tail, ri);
    }
    if (probe_owner == s) {
        info->has_probes = true;
        info->probes = hypertrace_probes_info();
    }
    return info;
}

static Property ht_properties[] = {
    DEFINE_PROP_UINT32("rings", HypertraceState, nr_rings, 0),
    DEFINE_PROP_UINT32("ring-size", HypertraceState, ring_size, 4096),
    DEFINE_PROP_UINT32("clients", HypertraceState, nr_clients, 0),
    DEFINE_PROP_STRING("mode", HypertraceState, mode_name),
    DEFINE_PROP_UINT32("drain-period-us", HypertraceState, drain_period_us,
                       1000),
    DEFINE_PROP_UINT32("drain-budget", HypertraceState, drain_budget, 4096),
    DEFINE_PROP_BOOL("hypercalls", HypertraceState, hypercalls, true),
    DEFINE_PROP_LINK("memdev", HypertraceState, hostmem, TYPE_MEMORY_BACKEND,
                     HostMemoryBackend *),
    DEFINE_PROP_BOOL("user-hypercalls", HypertraceState, user_hypercalls,
                     true),
    DEFINE_PROP_STRING("symbols", HypertraceState, symbols),
    DEFINE_PROP_STRING("probes", HypertraceState, probes),
    DEFINE_PROP_BOOL("milestones", HypertraceState, milestones, true),
    DEFINE_PROP_END_OF_LIST(),
};

static void ht_instance_init(Object *obj)
{
    HypertraceState *s = HYPERTRACE(obj);

    s->mode_name = g_strdup("discard");
}

static void ht_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    HypertraceClass *hc = HYPERTRACE_CLASS(klass);

    k->realize = ht_realize;
    k->exit = ht_exit;
    k->vendor_id = HT_PCI_VENDOR_ID;
    k->device_id = HT_PCI_DEVICE_ID;
    k->revision = HT_PCI_REVISION;
    k->class_id = HT_PCI_CLASS;
    dc->desc = "Guest-to-host tracing: shared-memory rings and sync events";
    dc->reset = ht_reset;
    device_class_set_props(dc, ht_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    hc->query = ht_query;
}

static const TypeInfo ht_types[] = {
    {
        .name = TYPE_HYPERTRACE,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(HypertraceState),
        .class_size = sizeof(HypertraceClass),
        .instance_init = ht_instance_init,
        .class_init = ht_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(ht_types)
