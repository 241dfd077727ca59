/*
 * Unit tests of the guest header's ring producer, run on the host.
 *
 * The header's atomics are replaced by ones that can run a step of
 * another producer and of the device right after the producer under test
 * reads the ring header for the first time: an interleaving that a real
 * guest hits only now and then, on a busy host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

static void (*interleave)(void);  /* run once, after the next header read */

static void ht_test_after_read(void)
{
    void (*step)(void) = interleave;

    interleave = NULL;
    if (step) {
        step();
    }
}

#define HT_ATOMIC_LOAD(p) \
    ({ __typeof__(*(p)) v_ = __atomic_load_n((p), __ATOMIC_RELAXED); \
       ht_test_after_read(); v_; })
#define HT_ATOMIC_LOAD_ACQUIRE(p) \
    ({ __typeof__(*(p)) v_ = __atomic_load_n((p), __ATOMIC_ACQUIRE); \
       ht_test_after_read(); v_; })
#include "hypertrace.h"

#define TEST_RING_ORDER 4

static struct {
    struct ht_ring_header hdr;
    struct ht_record records[1 << TEST_RING_ORDER];
} shared;
static struct ht_ring ring;
static const uint64_t args[HT_NR_ARGS];

static void ring_setup(void)
{
    memset(&shared, 0, sizeof(shared));
    shared.hdr.order = TEST_RING_ORDER;
    shared.hdr.mode = HT_MODE_DISCARD;
    ht_ring_init(&ring, &shared, sizeof(shared), 0, NULL);
}

/* What the device does at a pass: take every committed record. */
static void device_drain(void)
{
    shared.hdr.consumer = shared.hdr.reserve;
}

/* Another producer fills half the ring, and the device drains it. */
static void other_producer_and_device(void)
{
    struct ht_ring other = ring;
    int i;

    for (i = 0; i < (1 << TEST_RING_ORDER) / 2; i++) {
        g_assert_cmpint(ht_ring_emit(&other, 2, args), ==, 0);
    }
    device_drain();
}

static void test_full_ring_counts_lost(void)
{
    int i;

    ring_setup();
    for (i = 0; i < 1 << TEST_RING_ORDER; i++) {
        g_assert_cmpint(ht_ring_emit(&ring, 1, args), ==, 0);
    }
    g_assert_cmpint(ht_ring_emit(&ring, 1, args), ==, -1);
    g_assert_cmpuint(shared.hdr.lost, ==, 1);
    device_drain();
    g_assert_cmpint(ht_ring_emit(&ring, 1, args), ==, 0);
    g_assert_cmpuint(shared.records[0].commit, ==, (1 << TEST_RING_ORDER) + 1);
}

/*
 * Others reserve, commit and are drained between this producer's reads
 * of the header: the ring is half empty, so the reservation succeeds.
 * Reading reserve before the consumer made p - consumer wrap: "full".
 */
static void test_reserve_while_others_are_drained(void)
{
    uint64_t pos = UINT64_MAX;

    ring_setup();
    interleave = other_producer_and_device;
    g_assert_cmpint(ht_ring_reserve(&ring, &pos), ==, 0);
    g_assert_null(interleave);
    g_assert_cmpuint(pos, ==, (1 << TEST_RING_ORDER) / 2);
    g_assert_cmpuint(shared.hdr.reserve, ==, pos + 1);
    g_assert_cmpuint(shared.hdr.lost, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-ring/full-ring-counts-lost",
                    test_full_ring_counts_lost);
    g_test_add_func("/guest-ring/reserve-while-others-are-drained",
                    test_reserve_while_others_are_drained);
    return g_test_run();
}
