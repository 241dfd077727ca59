/*
 * hypertrace: when and where the rings are drained
 *
 * Each device has a drain thread that runs the consumer (ring.c) off the
 * BQL, woken by the guest's doorbells and by the drain timer, so that
 * recording never makes a vCPU wait for the main loop.  The timer runs on
 * the virtual clock, in the main loop, where it also reads KVM's TSC
 * offset for the clock.  Stops, resets and exit drain in the main loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/lockable.h"
#include "qemu/rcu.h"
#include "qemu/timer.h"
#include "hypertrace-internal.h"
#ifdef CONFIG_LINUX
#include <sys/prctl.h>
#endif

/*
 * While records flow, look again (not waiting for a doorbell: a producer
 * rings it only at half a ring) when about a batch of them should wait,
 * at the rate that the last pass found.  A wake-up costs the thread some
 * microseconds, which passes of a few records would pay per record.  A
 * batch is an eighth of a ring, so a producer may speed up eightfold
 * meanwhile before its ring fills.  The longest wait is short because
 * it does not end at a doorbell: in 200 us, half the default ring takes
 * 160 M records/s, more than a producer writes (make bench).
 */
#define HT_DRAIN_BATCH 4096
#define HT_DRAIN_POLL_MIN_US 20
#define HT_DRAIN_POLL_MAX_US 200

static uint64_t ht_drain_poll_us(HypertraceState *s, uint64_t took,
                                 int64_t since_ns)
{
    uint64_t batch = MIN(HT_DRAIN_BATCH, ht_ring_records(s) / 8);
    uint64_t us = batch * since_ns / SCALE_US / took;

    return MIN(MAX(us, HT_DRAIN_POLL_MIN_US), HT_DRAIN_POLL_MAX_US);
}

static void *ht_drain_thread(void *opaque)
{
    HypertraceState *s = opaque;
    int64_t pass_ns, last_ns = get_clock();
    uint64_t took;
    bool more;

    rcu_register_thread(); /* qemu_log and the CPU list use RCU */
#ifdef CONFIG_LINUX
    prctl(PR_SET_TIMERSLACK, HT_DRAIN_POLL_MIN_US * 100); /* ns: 1/10th */
#endif
    while (!qatomic_read(&s->drain_quit)) {
        qemu_event_reset(&s->drain_wake);
        do {
            pass_ns = get_clock();
            more = ht_drain_pass(s, &took);
            if (!more && took) {
                g_usleep(ht_drain_poll_us(s, took, pass_ns - last_ns));
            }
            last_ns = pass_ns;
        } while ((more || took) && !qatomic_read(&s->drain_quit));
        qemu_event_wait(&s->drain_wake); /* idle, or a stalled commit */
    }
    rcu_unregister_thread();
    return NULL;
}

static void ht_drain_timer_mod(HypertraceState *s)
{
    timer_mod(s->drain_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              (int64_t)s->drain_period_us * SCALE_US);
}

static void ht_drain_timer(void *opaque)
{
    HypertraceState *s = opaque;

    ht_clock_sync_kvm(s);
    if (ht_drain_wanted(s)) {
        qemu_event_set(&s->drain_wake);
    }
    ht_drain_timer_mod(s);
}

void ht_drain_start(HypertraceState *s)
{
    qemu_mutex_init(&s->drain_lock);
    qemu_event_init(&s->drain_wake, false);
    s->drain_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, ht_drain_timer, s);
    ht_drain_timer_mod(s);
    qemu_thread_create(&s->drain_thread, "ht-drain",
                       ht_drain_thread, s, QEMU_THREAD_JOINABLE);
}

/* At exit: drain for good, and have the drain thread take nothing more. */
void ht_drain_close(HypertraceState *s)
{
    QEMU_LOCK_GUARD(&s->drain_lock);
    if (!s->drain_closed) {
        ht_drain_all_locked(s, true);
        s->drain_closed = true;
    }
}

void ht_drain_stop(HypertraceState *s)
{
    ht_drain_close(s);
    qatomic_set(&s->drain_quit, true);
    qemu_event_set(&s->drain_wake);
    qemu_thread_join(&s->drain_thread);
    timer_free(s->drain_timer);
    qemu_event_destroy(&s->drain_wake);
    qemu_mutex_destroy(&s->drain_lock);
}
