/*
 * Host-side model of a KVM guest producer: threads write records through
 * guest/hypertrace.h into ring memory that QEMU's hypertrace device shares
 * (memdev=memory-backend-file,share=on), with no exit at all, as a KVM
 * guest would.  QEMU's own consumer drains them into its trace backend.
 *
 *   ring-producer FILE PRODUCERS EVENTS_PER_PRODUCER [nowait | RATE]
 *   ring-producer --memdev-size RINGS RECORDS_PER_RING
 *
 * With "nowait" it returns as soon as the records are published (tests
 * use it to leave records pending in the ring).  With RATE, each producer
 * emits that many records per second, evenly, instead of flat out.
 * The second form prints the memdev size (a power of two) that holds
 * such rings, from the ABI's sizes.
 * Producer p writes to ring p.  Prints one JSON object: producer ns per
 * event (wall clock, and the thread's own CPU time, which leaves out time
 * the thread waited for a core), records dropped by producers, and the
 * drain rate (records per second from the first record written to the
 * last one consumed).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "hypertrace.h"

typedef struct Producer {
    pthread_t thread;
    struct ht_ring ring;
    uint64_t events, dropped;
    uint64_t rate;          /* records per second, 0 for flat out */
    uint64_t t0, t1;
    uint64_t cpu_ns;        /* the thread's own CPU time */
} Producer;

static pthread_barrier_t start;

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/*
 * A guest's ring is mapped once, long before it is used: take the page
 * faults of our fresh mapping before timing.
 */
static void prefault(Producer *p)
{
    volatile uint8_t *mem = (volatile uint8_t *)p->ring.records;
    size_t bytes = p->ring.size * HT_RECORD_SIZE, off;

    for (off = 0; off < bytes; off += 4096) {
        (void)mem[off];
    }
}

/* Paced producers check the clock once per PACE_BATCH records. */
#define PACE_BATCH 64

static void pace(Producer *p, uint64_t done)
{
    uint64_t due = p->t0 + (uint64_t)(done * 1e9 / p->rate);

    while (now_ns() < due) {
        /* spin: a sleep would bunch the records up */
    }
}

static void *produce(void *opaque)
{
    Producer *p = opaque;
    uint64_t args[HT_NR_ARGS] = { 1, 2, 3, 4, 5, 6 };
    uint64_t i;

    prefault(p);
    pthread_barrier_wait(&start);
    p->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    p->t0 = now_ns();
    for (i = 0; i < p->events; i++) {
        if (p->rate && i % PACE_BATCH == 0) {
            pace(p, i);
        }
        args[0] = i;
        p->dropped += ht_ring_emit(&p->ring, 7, args) != 0;
    }
    p->t1 = now_ns();
    p->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - p->cpu_ns;
    return NULL;
}

/* Rings of @records, each with a header, each rounded up to pages. */
static int print_memdev_size(uint64_t rings, uint64_t records)
{
    uint64_t need = rings * (HT_RING_HEADER_SIZE + records * HT_RECORD_SIZE +
                             4096), size = 4096;

    while (size < need) {
        size *= 2;
    }
    printf("%llu\n", (unsigned long long)size);
    return 0;
}

int main(int argc, char **argv)
{
    Producer *prod;
    struct stat st;
    uint64_t first = UINT64_MAX, last_produced = 0, total = 0, dropped = 0;
    double ns_per_event = 0, cpu_ns_per_event = 0;
    uint32_t stride;
    void *mem;
    int fd, n, i;
    bool nowait = argc == 5 && !strcmp(argv[4], "nowait");

    if (argc == 4 && !strcmp(argv[1], "--memdev-size")) {
        return print_memdev_size(strtoull(argv[2], NULL, 0),
                                 strtoull(argv[3], NULL, 0));
    }
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s FILE PRODUCERS EVENTS [nowait | RATE]\n",
                argv[0]);
        return 2;
    }
    n = atoi(argv[2]);
    fd = open(argv[1], O_RDWR);
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(argv[1]);
        return 1;
    }
    mem = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    stride = ((struct ht_ring_header *)mem)->stride;
    if ((uint64_t)stride * n > (uint64_t)st.st_size) {
        fprintf(stderr, "%d producers need %d rings\n", n, n);
        return 1;
    }
    prod = calloc(n, sizeof(*prod));
    pthread_barrier_init(&start, NULL, n);
    for (i = 0; i < n; i++) {
        ht_ring_init(&prod[i].ring, mem, stride, i, NULL);
        prod[i].events = strtoull(argv[3], NULL, 0);
        prod[i].rate = argc == 5 ? strtoull(argv[4], NULL, 0) : 0;
        pthread_create(&prod[i].thread, NULL, produce, &prod[i]);
    }
    for (i = 0; i < n; i++) {
        pthread_join(prod[i].thread, NULL);
        first = prod[i].t0 < first ? prod[i].t0 : first;
        last_produced = prod[i].t1 > last_produced ? prod[i].t1 : last_produced;
        ns_per_event += (double)(prod[i].t1 - prod[i].t0) / prod[i].events / n;
        cpu_ns_per_event += (double)prod[i].cpu_ns / prod[i].events / n;
        total += prod[i].events - prod[i].dropped;
        dropped += prod[i].dropped;
    }
    /* wait for the device to consume everything that was reserved */
    for (i = 0; !nowait && i < n; i++) {
        struct ht_ring_header *h = prod[i].ring.hdr;

        while (__atomic_load_n(&h->consumer, __ATOMIC_ACQUIRE) <
               __atomic_load_n(&h->reserve, __ATOMIC_ACQUIRE)) {
            if (now_ns() - last_produced > 120 * 1000000000ull) {
                fprintf(stderr, "ring %d not drained after 120 s\n", i);
                return 1;
            }
            usleep(100);
        }
    }
    printf("{\"producers\": %d, \"producer_ns_per_event\": %.2f, "
           "\"producer_cpu_ns_per_event\": %.2f, "
           "\"recorded\": %llu, \"dropped\": %llu, "
           "\"drain_events_per_sec\": %.0f}\n", n, ns_per_event,
           cpu_ns_per_event,
           (unsigned long long)total, (unsigned long long)dropped,
           total / ((now_ns() - first) / 1e9));
    return 0;
}
