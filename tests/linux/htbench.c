/*
 * htbench: per-event cost of each way a Linux program can emit, as the
 * program sees it (make bench, tests/bench/run.py).  Run as root on one
 * CPU of a guest with a hypertrace device.  Each event is timed on the
 * TSC, so the median is the usual cost and the mean includes every
 * stall; a ring burst is followed by one exit, timed: what a vCPU waits
 * for at its first exit after a burst.  Prints one line per case.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "libhypertrace.h"

#define BURST 200000        /* ring records in one burst */
#define EXITS 20000         /* events of the channels that exit */
#define PAIR_ROUNDS 5       /* rounds of the library/inline comparison */

static uint64_t sample[BURST];
static double ns_per_tick;
static ht_device *dev;
/* a copy in the program's data, as a program inlining the emit keeps it */
static struct ht_ring ring;
static int devnull_fd, marker_fd;
static uint64_t sink[4096];
static long dropped;

static const uint64_t args[HT_NR_ARGS] = { 1, 2, 3, 4, 5, 6 };

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void calibrate(void)
{
    uint64_t t0 = ht_rdtsc(), n0 = now_ns();

    while (now_ns() - n0 < 200000000ull) {
        continue;
    }
    ns_per_tick = (double)(now_ns() - n0) / (double)(ht_rdtsc() - t0);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void op_empty(uint64_t i)
{
    (void)i;
}

static void op_floor(uint64_t i)
{
    sink[i & 4095] = ht_rdtsc();
}

/*
 * Neither emit is inlined into the timing loops: the compiler would
 * inline one and call the other, and a call's return is an indirect jump,
 * which costs TCG a lookup; the pair compares the emits, not that choice.
 */
static __attribute__((noinline)) void op_ring_inline(uint64_t i)
{
    (void)i;
    dropped += ht_ring_emit(&ring, 1, args) < 0;
}

static __attribute__((noinline)) void op_ring_library(uint64_t i)
{
    (void)i;
    dropped += ht_device_emit(dev, 2, args) < 0;
}

static void op_getcpu(uint64_t i)
{
    sink[i & 4095] = sched_getcpu();
}

static void op_sync(uint64_t i)
{
    (void)i;
    ht_device_emit_sync(dev, 3, args, 0);
}

static void op_hypercall(uint64_t i)
{
    ht_hypercall(HT_HC_USER_FUNC, i, 0, 0, 0);
}

static void op_mmio(uint64_t i)
{
    ht_writeq(ht_device_ctrl(dev), HT_CLIENT_REG(0, HT_CLIENT_ARG(5)), i);
}

static void op_write(uint64_t i)
{
    if (write(devnull_fd, &i, sizeof(i)) != sizeof(i)) {
        abort();
    }
}

static void op_marker(uint64_t i)
{
    (void)i;
    if (write(marker_fd, "htbench", 7) != 7) {
        abort();
    }
}

typedef struct Stats {
    double median_ns, mean_ns, max_us;
} Stats;

/* @n events of @op, each timed; less the cost of timing (@empty). */
static Stats measure(void (*op)(uint64_t), int n, double empty)
{
    uint64_t t0, sum = 0;
    Stats st;
    int i;

    for (i = 0; i < n; i++) {
        t0 = ht_rdtsc();
        op(i);
        sample[i] = ht_rdtsc() - t0;
        sum += sample[i];
    }
    qsort(sample, n, sizeof(sample[0]), cmp_u64);
    st.median_ns = sample[n / 2] * ns_per_tick - empty;
    st.mean_ns = (double)sum / n * ns_per_tick - empty;
    st.max_us = sample[n - 1] * ns_per_tick / 1000;
    return st;
}

/*
 * The library's emit against the inline one under the same conditions:
 * alternate them, @n of each, each first half of the time; their medians
 * in ns.
 */
static void pair_medians(int n, double empty, double *inline_ns,
                         double *library_ns)
{
    static uint64_t inline_ticks[BURST / 2];
    uint64_t t0;
    int i;

    for (i = 0; i < n; i++) {
        if (i & 1) {    /* neither always goes first */
            t0 = ht_rdtsc();
            op_ring_library(i);
            sample[i] = ht_rdtsc() - t0;
        }
        t0 = ht_rdtsc();
        op_ring_inline(i);
        inline_ticks[i] = ht_rdtsc() - t0;
        if (!(i & 1)) {
            t0 = ht_rdtsc();
            op_ring_library(i);
            sample[i] = ht_rdtsc() - t0;
        }
    }
    qsort(inline_ticks, n, sizeof(inline_ticks[0]), cmp_u64);
    qsort(sample, n, sizeof(sample[0]), cmp_u64);
    *inline_ns = inline_ticks[n / 2] * ns_per_tick - empty;
    *library_ns = sample[n / 2] * ns_per_tick - empty;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/*
 * PAIR_ROUNDS rounds of @n pairs: the median of each side's round
 * medians, and of their differences (one round's stall decides nothing).
 */
static void report_pair(int n, double empty)
{
    double inline_ns[PAIR_ROUNDS], library_ns[PAIR_ROUNDS];
    double diff[PAIR_ROUNDS];
    int r;

    printf("htbench: ring_pair n=%d rounds=%d", n, PAIR_ROUNDS);
    for (r = 0; r < PAIR_ROUNDS; r++) {
        pair_medians(n, empty, &inline_ns[r], &library_ns[r]);
        diff[r] = library_ns[r] - inline_ns[r];
        usleep(50000);  /* let the device drain */
    }
    qsort(diff, PAIR_ROUNDS, sizeof(diff[0]), cmp_double);
    qsort(inline_ns, PAIR_ROUNDS, sizeof(inline_ns[0]), cmp_double);
    qsort(library_ns, PAIR_ROUNDS, sizeof(library_ns[0]), cmp_double);
    printf(" inline_median_ns=%.1f library_median_ns=%.1f "
           "diff_median_ns=%.1f diff_min_ns=%.1f diff_max_ns=%.1f\n",
           inline_ns[PAIR_ROUNDS / 2], library_ns[PAIR_ROUNDS / 2],
           diff[PAIR_ROUNDS / 2], diff[0], diff[PAIR_ROUNDS - 1]);
    fflush(stdout);
    usleep(200000);
}

static void report(const char *name, void (*op)(uint64_t), int n,
                   double empty, int burst)
{
    Stats st;
    Stats first;

    dropped = 0;
    st = measure(op, n, empty);
    printf("htbench: %s n=%d median_ns=%.1f mean_ns=%.1f max_us=%.1f",
           name, n, st.median_ns, st.mean_ns, st.max_us);
    if (burst) {
        first = measure(op_mmio, 1, empty);
        printf(" dropped=%ld first_exit_us=%.1f", dropped,
               first.mean_ns / 1000);
        usleep(200000); /* let the device drain before the next case */
    }
    printf("\n");
    fflush(stdout);
}

static void open_marker(void)
{
    mkdir("/sys/kernel/tracing", 0755);
    if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
        access("/sys/kernel/tracing/trace_marker", W_OK)) {
        perror("htbench: mount tracefs");
        exit(1);
    }
    marker_fd = open("/sys/kernel/tracing/trace_marker", O_WRONLY);
    if (marker_fd < 0) {
        perror("htbench: trace_marker");
        exit(1);
    }
}

int main(void)
{
    cpu_set_t one;
    char *error = NULL;
    double empty;

    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof(one), &one);
    dev = ht_device_open(&error);
    if (!dev) {
        fprintf(stderr, "htbench: %s\n", error);
        return 1;
    }
    ring = *ht_device_ring(dev, 0);
    devnull_fd = open("/dev/null", O_WRONLY);
    open_marker();
    calibrate();
    empty = measure(op_empty, BURST, 0).median_ns;
    printf("htbench: tsc_ghz=%.3f timing_ns=%.1f\n", 1 / ns_per_tick, empty);
    report("floor", op_floor, BURST, empty, 0);
    report("ring_inline", op_ring_inline, BURST, empty, 1);
    report("ring_library", op_ring_library, BURST, empty, 1);
    report_pair(BURST / 10, empty);
    report("getcpu", op_getcpu, BURST, empty, 0);
    report("sync", op_sync, EXITS, empty, 0);
    report("hypercall", op_hypercall, EXITS, empty, 0);
    report("mmio_write", op_mmio, EXITS, empty, 0);
    report("write_devnull", op_write, EXITS, empty, 0);
    report("trace_marker", op_marker, EXITS, empty, 0);
    printf("htbench: done\n");
    fflush(stdout);
    ht_device_close(dev);
    return 0;
}
