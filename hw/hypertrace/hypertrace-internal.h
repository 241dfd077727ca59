/*
 * hypertrace device: what its files share
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_HYPERTRACE_INTERNAL_H
#define HW_HYPERTRACE_INTERNAL_H

#include "hw/hypertrace/hypertrace.h"

/* clock.c: guest TSC values to host time */
void ht_clock_start(HypertraceClock *c);
void ht_clock_update(HypertraceClock *c);
void ht_clock_sync_kvm(HypertraceState *s);
bool ht_clock_ready(const HypertraceClock *c);
uint64_t ht_clock_ns(const HypertraceClock *c, uint64_t tsc);
int64_t ht_producer_time_ns(uint32_t ring);

/* ring.c: the consumer of the shared-memory rings */
void ht_guest_error(HypertraceState *s, uint32_t ring, uint32_t code,
                    uint64_t value);
uint32_t ht_ring_records(HypertraceState *s);
void ht_ring_reset(HypertraceState *s, uint32_t r);
void ht_ring_control(HypertraceState *s, uint32_t r, uint32_t val);
bool ht_drain_pass(HypertraceState *s, uint64_t *took);
bool ht_drain_wanted(HypertraceState *s);
void ht_drain_all_locked(HypertraceState *s, bool final);
void ht_drain_all(HypertraceState *s, bool final);

/* drain.c: the drain thread and timer */
void ht_drain_start(HypertraceState *s);
void ht_drain_close(HypertraceState *s);
void ht_drain_stop(HypertraceState *s);

/* regs.c: the control BAR */
extern const MemoryRegionOps ht_ctrl_ops;

#endif
