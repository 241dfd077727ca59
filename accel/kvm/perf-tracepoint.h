/*
 * Reading a host kernel tracepoint of one thread through perf_event_open
 *
 * Field offsets come from the tracepoint's tracefs format file, never from
 * constants. Depends on glib and Linux headers only, so that it is unit
 * tested outside QEMU (tests/unit/test-tracepoint.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ACCEL_KVM_PERF_TRACEPOINT_H
#define ACCEL_KVM_PERF_TRACEPOINT_H

typedef struct TracepointField {
    char *name;
    uint32_t offset;
    uint32_t size;
} TracepointField;

typedef struct TracepointFormat {
    uint32_t id;
    GPtrArray *fields;      /* of TracepointField */
} TracepointFormat;

typedef struct TracepointSample {
    uint32_t pid, tid, cpu;
    uint64_t time_ns;       /* CLOCK_MONOTONIC, like QEMU's get_clock() */
    const uint8_t *raw;
    uint32_t raw_size;
} TracepointSample;

typedef struct TracepointReader {
    int fd;
    void *ring;             /* perf mmap: header page + data pages */
    size_t ring_size;
    uint64_t data_size;
    uint64_t lost;          /* samples the kernel could not store */
    bool lost_by_read;      /* lost is read, not summed from the ring */
    uint8_t *scratch;       /* a record that wraps the ring's end */
} TracepointReader;

typedef void TracepointSampleFn(const TracepointSample *s, void *opaque);

/* Parse the text of a tracefs format file. */
bool tracepoint_format_parse(const char *text, TracepointFormat *fmt,
                             GError **errp);
/* Load SYSTEM/EVENT's format from the first tracefs mount found. */
bool tracepoint_format_load(const char *system, const char *event,
                            TracepointFormat *fmt, GError **errp);
void tracepoint_format_free(TracepointFormat *fmt);
const TracepointField *tracepoint_field(const TracepointFormat *fmt,
                                        const char *name);
/* A field's value, zero-extended; false if it lies outside the sample. */
bool tracepoint_sample_field(const TracepointSample *s,
                             const TracepointField *f, uint64_t *val);

/* Sample every hit of tracepoint @id in thread @tid, 2^@order data pages. */
bool tracepoint_reader_open(TracepointReader *r, uint32_t id, int tid,
                            unsigned order, GError **errp);
/* Hand every pending sample to @fn; returns how many. */
size_t tracepoint_reader_drain(TracepointReader *r, TracepointSampleFn *fn,
                               void *opaque);
void tracepoint_reader_close(TracepointReader *r);

#endif
