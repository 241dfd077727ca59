/*
 * hypertrace: the device's clocks
 *
 * Ring records carry the guest's TSC; trace backends want host
 * CLOCK_MONOTONIC nanoseconds (get_clock()).  Under TCG the guest's TSC is
 * QEMU's tick counter; under KVM it is the host's plus KVM's offset.
 * A stalled commit is timed by how long its producer could have run.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/lockable.h"
#include "qemu/rcu.h"
#include "qemu/timer.h"
#include "system/cpu-timers.h"
#include "system/cpus.h"
#include "system/kvm.h"
#include "system/runstate.h"
#include "system/qtest.h"
#include "hw/core/cpu.h"
#include "hypertrace-internal.h"

/* Guest TSC: under TCG this is what RDTSC returns (tsc_offset aside). */
static uint64_t ht_guest_tsc(const HypertraceClock *c)
{
    if (kvm_enabled()) {
        return cpu_get_host_ticks() + c->kvm_tsc_offset;
    }
    return cpus_get_elapsed_ticks();
}

/*
 * Under KVM, read the guest TSC's offset again, at most once a second:
 * with the BQL, off the vCPU threads, and not under drain_lock (the vCPU
 * leaves KVM_RUN to answer, and may be waiting for the lock).
 */
void ht_clock_sync_kvm(HypertraceState *s)
{
    HypertraceClock *c = &s->clock;
    int64_t now = get_clock();
    int64_t offset = 0;
    int result;
    bool due;

    if (!kvm_enabled() || !runstate_is_running() || qemu_in_vcpu_thread()) {
        return;
    }
    WITH_QEMU_LOCK_GUARD(&s->drain_lock) {
        due = !c->kvm_tsc_offset_ns ||
              now - c->kvm_tsc_offset_ns >= NANOSECONDS_PER_SECOND;
    }
    if (!due) {
        return;
    }
    result = hypertrace_kvm_tsc_offset(&offset);
    if (result == 0) {
        return; /* the vCPU has not run yet: at the next tick */
    }
    if (result < 0) {
        warn_report_once("hypertrace: KVM did not give the guest's TSC; "
                         "ring record times may be off by a constant");
    }
    QEMU_LOCK_GUARD(&s->drain_lock);
    if (result > 0) {
        c->kvm_tsc_offset = offset; /* else the last one read stays */
    }
    c->kvm_tsc_offset_ns = now;
    ht_clock_update(c);
}

/*
 * Whether ring records can be given a time now: under KVM, once the
 * guest TSC's offset was read since the VM last started or reset (the
 * drain timer reads it).  Only a stop's or exit's drain goes on without.
 */
bool ht_clock_ready(const HypertraceClock *c)
{
    return !kvm_enabled() || c->kvm_tsc_offset_ns;
}

/* With drain_lock, or before the drain thread starts. */
void ht_clock_update(HypertraceClock *c)
{
    uint64_t host_tsc = cpu_get_host_ticks();
    int64_t ns = get_clock();

    c->ns_per_tick = (double)(ns - c->ns0) /
                     (double)MAX(host_tsc - c->host_tsc0, 1);
    /* A stopped VM's TSC stands still: keep the anchor of its last run. */
    if (runstate_is_running()) {
        c->anchor_tsc = ht_guest_tsc(c);
        c->anchor_ns = get_clock();
    }
}

/*
 * The rate is measured from here on: every drain pass updates it before
 * it converts a record's time, over the device's whole life so far.
 */
void ht_clock_start(HypertraceClock *c)
{
    c->host_tsc0 = cpu_get_host_ticks();
    c->ns0 = get_clock();
    c->anchor_tsc = ht_guest_tsc(c);
    c->anchor_ns = c->ns0;
    ht_clock_update(c);
}

/*
 * How long the producers of ring @ring could have run, in nanoseconds:
 * the CPU time of the thread of the vCPU with that index, which stands
 * still while the host leaves the vCPU descheduled.  Under qtest, which
 * runs no vCPU, the virtual clock that the test steps; for a ring that no
 * vCPU owns, host time.
 */
int64_t ht_producer_time_ns(uint32_t ring)
{
    if (qtest_enabled()) {
        return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    }
#ifndef _WIN32
    WITH_RCU_READ_LOCK_GUARD() { /* the CPU list, from the drain thread */
        CPUState *cpu = qemu_get_cpu(ring);
        clockid_t clock;
        struct timespec ts;

        if (cpu && cpu->thread &&
            !pthread_getcpuclockid(cpu->thread->thread, &clock) &&
            !clock_gettime(clock, &ts)) {
            return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
        }
    }
#endif
    return get_clock();
}

uint64_t ht_clock_ns(const HypertraceClock *c, uint64_t tsc)
{
    double ns = c->anchor_ns +
                (double)(int64_t)(tsc - c->anchor_tsc) * c->ns_per_tick;

    /* The TSC is the guest's to write: keep any value in range. */
    return ns <= 0 ? 0 : ns >= 0x1p63 ? INT64_MAX : (uint64_t)ns;
}
