/*
 * hypertrace: the consumer of the shared-memory rings
 *
 * Guests publish records without a VM exit; this side takes them out in
 * position order, with every loss counted in its place, and emits them
 * into QEMU's trace backends.  Everything in a ring header is the
 * guest's to write, so every value read from it is checked.  The rings'
 * consumer state belongs to whoever holds drain_lock: the drain thread
 * (drain.c), or the main loop at stops, resets and exit.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "qemu/atomic.h"
#include "trace/control.h"
#include "hypertrace-internal.h"
#include "trace.h"

void ht_guest_error(HypertraceState *s, uint32_t ring, uint32_t code,
                           uint64_t value)
{
    qatomic_inc(&s->errors);
    if (ring < s->nr_rings) { /* a ring's own error: drain_lock is held */
        s->rings[ring].errors++;
    }
    trace_hypertrace_guest_error(ring, code, value);
    qemu_log_mask(LOG_GUEST_ERROR,
                  "hypertrace: guest error %u on ring 0x%x, value 0x%" PRIx64
                  "\n", code, ring, value);
}

uint32_t ht_ring_records(HypertraceState *s)
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

/* Account the records that producers dropped on a full ring: @lost. */
static void ht_ring_account_guest_lost(HypertraceState *s, uint32_t r,
                                       uint64_t lost)
{
    HypertraceRing *ring = &s->rings[r];

    if (lost < ring->guest_lost) {
        ht_guest_error(s, r, HT_ERR_LOST_DECREASED, lost);
    } else if (lost > ring->guest_lost) {
        ht_ring_lose(s, r, lost - ring->guest_lost);
    }
    qatomic_set(&ring->guest_lost, lost); /* ht_drain_wanted() peeks */
}

static void ht_ring_collect_guest_lost(HypertraceState *s, uint32_t r)
{
    ht_ring_account_guest_lost(s, r, le64_to_cpu(
        qatomic_read(&ht_ring_header(s, r)->lost)));
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
}

typedef enum HtTake {
    HT_TAKE_RECORD,     /* copied out */
    HT_TAKE_LOST,       /* skipped: overwritten, or never committed */
    HT_TAKE_WAIT,       /* not committed yet: come back later */
} HtTake;

/*
 * Wait for the uncommitted record at the consumer position (the wait
 * starts when the device first sees it): true while its producer still
 * has time to commit it, HT_COMMIT_TIMEOUT_NS of the time it could run.
 */
static bool ht_ring_await_commit(HypertraceRing *ring, uint32_t r)
{
    int64_t now = ht_producer_time_ns(r);

    if (!ring->stalled || ring->stall_pos != ring->consumer) {
        ring->stall_pos = ring->consumer;
        ring->stall_since_ns = now;
        ring->stalled = true;
        return true;
    }
    return now - ring->stall_since_ns < HT_COMMIT_TIMEOUT_NS;
}

/*
 * Take the record at the consumer position into @copy.  A reservation
 * left uncommitted for HT_COMMIT_TIMEOUT_NS, or at all in a @final drain
 * (its producer is gone), is skipped and must be counted lost.
 */
static HtTake ht_ring_take(HypertraceState *s, uint32_t r, bool final,
                           struct ht_record *copy)
{
    HypertraceRing *ring = &s->rings[r];
    struct ht_record *rec = ht_ring_record(s, r, ring->consumer);
    uint32_t want = (uint32_t)(ring->consumer + 1);
    HtTake take = HT_TAKE_LOST; /* unless copied whole */

    if (le32_to_cpu(qatomic_load_acquire(&rec->commit)) == want) {
        memcpy(copy, rec, sizeof(*copy));
        smp_rmb(); /* the copy before the second look at commit */
        if (le32_to_cpu(qatomic_read(&rec->commit)) == want) {
            ring->consumed++;
            take = HT_TAKE_RECORD;
        }
    } else if (!final && ht_ring_await_commit(ring, r)) {
        return HT_TAKE_WAIT;
    }
    ring->stalled = false;
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
    hypertrace_set_event_time(0); /* other events: stamped when traced */
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
    bool drain_all = *budget == UINT32_MAX;
    bool room = true;
    uint32_t n = 0;
    HtTake take;

    while (ring->consumer < reserve && *budget > 0) {
        if (n == 0 && !ht_trace_takes_batch(s, drain_all)) {
            room = false;
            break;
        }
        take = ht_ring_take(s, r, final, &batch[n]);
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

/* The drain thread's records per ring between two takes of drain_lock */
#define HT_DRAIN_CHUNK 256

/*
 * One pass of the drain thread over every ring, at most drain-budget
 * records each, taken HT_DRAIN_CHUNK at a time so that the main loop and
 * the vCPUs never wait long for drain_lock.  Returns whether more are
 * waiting and the trace can take them now; @took counts the positions
 * the pass took (emitted or lost).
 */
bool ht_drain_pass(HypertraceState *s, uint64_t *took)
{
    bool more = false, ring_more;
    uint32_t r, left, chunk;
    uint64_t before;

    *took = 0;
    for (r = 0; r < s->nr_rings; r++) {
        left = s->drain_budget;
        do {
            chunk = MIN(left, HT_DRAIN_CHUNK);
            left -= chunk;
            QEMU_LOCK_GUARD(&s->drain_lock);
            if (s->drain_closed || !ht_clock_ready(&s->clock)) {
                return false;
            }
            ht_clock_update(&s->clock);
            s->trace_stuck = false;
            before = s->rings[r].consumer;
            ring_more = ht_ring_drain(s, r, chunk, false);
            *took += s->rings[r].consumer - before;
        } while (ring_more && left);
        more |= ring_more;
    }
    return more;
}

/*
 * Whether a pass would find work in some ring, from its header alone and
 * without drain_lock: the drain timer leaves an idle thread asleep.
 */
bool ht_drain_wanted(HypertraceState *s)
{
    struct ht_ring_header *hdr;
    uint32_t r;

    for (r = 0; r < s->nr_rings; r++) {
        hdr = ht_ring_header(s, r);
        if (qatomic_read(&hdr->reserve) != qatomic_read(&hdr->consumer) ||
            le64_to_cpu(qatomic_read(&hdr->lost)) !=
            qatomic_read(&s->rings[r].guest_lost)) {
            return true;
        }
    }
    return false;
}

/*
 * Drain everything that is committed, holding drain_lock throughout: for
 * stops, where the guest may still resume, and @final for resets and
 * exit, where no producer will commit again.
 */
void ht_drain_all_locked(HypertraceState *s, bool final)
{
    uint32_t r;

    ht_clock_update(&s->clock);
    s->trace_stuck = false;
    for (r = 0; r < s->nr_rings; r++) {
        ht_ring_drain(s, r, UINT32_MAX, final);
    }
}

void ht_drain_all(HypertraceState *s, bool final)
{
    QEMU_LOCK_GUARD(&s->drain_lock);
    ht_drain_all_locked(s, final);
}

/* For producers that map only the data BAR; the device never reads it. */
static void ht_ring_write_geometry(HypertraceState *s, uint32_t r)
{
    struct ht_ring_header *hdr = ht_ring_header(s, r);

    hdr->order = cpu_to_le32(s->ring_order);
    hdr->mode = cpu_to_le32(s->mode);
    hdr->watermark = cpu_to_le32(ht_ring_records(s) / 2);
    hdr->ring = cpu_to_le32(r);
    hdr->stride = cpu_to_le32(s->ring_stride);
}

/*
 * A device reset, with drain_lock, after the final drain: the ring starts
 * again, empty, at the position it reached.  Its slots keep what they
 * hold: a record left there carries an older position's commit value,
 * which no position from here on matches before 2^32 more (as when the
 * ring wraps).  So a reset costs the same at any ring size and touches no
 * ring memory.  What a halted ring left undrained is counted lost.
 */
void ht_ring_reset(HypertraceState *s, uint32_t r)
{
    HypertraceRing *ring = &s->rings[r];
    struct ht_ring_header *hdr = ht_ring_header(s, r);

    if (ring->published > ring->consumer) {
        ht_ring_lose(s, r, ring->published - ring->consumer);
        ring->consumer = ring->published;
    }
    qatomic_set(&hdr->reserve, cpu_to_le64(ring->consumer));
    qatomic_set(&hdr->lost, 0);
    qatomic_store_release(&hdr->consumer, cpu_to_le64(ring->consumer));
    ht_ring_write_geometry(s, r);
    ring->published = ring->consumer;
    qatomic_set(&ring->guest_lost, 0);
    ring->stalled = false;
    ring->halted = false;
}

/*
 * A guest may reset a ring at will, so a reset takes constant time and
 * loses nothing, even with producers at work: it writes the header again
 * from the device's state and un-halts the ring.  A sane ring keeps its
 * reserve, which producers own; a halted one gets the last sane value.
 * The producers' drop count is taken and zeroed in one exchange.
 */
static void ht_ring_republish(HypertraceState *s, uint32_t r)
{
    HypertraceRing *ring = &s->rings[r];
    struct ht_ring_header *hdr = ht_ring_header(s, r);

    if (!ring->halted) {
        ht_ring_drain(s, r, 0, false); /* look at reserve, as a pass does */
    }
    if (ring->halted) {
        qatomic_set(&hdr->reserve, cpu_to_le64(ring->published));
    }
    ht_ring_account_guest_lost(s, r,
                               le64_to_cpu(qatomic_xchg(&hdr->lost, 0)));
    qatomic_set(&ring->guest_lost, 0);
    qatomic_store_release(&hdr->consumer, cpu_to_le64(ring->consumer));
    ht_ring_write_geometry(s, r);
    ring->halted = false;
}

void ht_ring_control(HypertraceState *s, uint32_t r, uint32_t val)
{
    if (val & ~(HT_RING_CTL_DOORBELL | HT_RING_CTL_RESET)) {
        WITH_QEMU_LOCK_GUARD(&s->drain_lock) {
            ht_guest_error(s, r, HT_ERR_BAD_CONTROL, val);
        }
        return;
    }
    if (val & HT_RING_CTL_RESET) {
        QEMU_LOCK_GUARD(&s->drain_lock);
        ht_ring_republish(s, r);
    }
    if (val & HT_RING_CTL_DOORBELL) {
        qemu_event_set(&s->drain_wake);
    }
}
