/*
 * Reading a host kernel tracepoint of one thread through perf_event_open
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifdef HYPERTRACE_STANDALONE
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <glib.h>
#define qemu_real_host_page_size() ((size_t)sysconf(_SC_PAGE_SIZE))
#else
#include "qemu/osdep.h"
#endif
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include "perf-tracepoint.h"

static const char *const tracefs_mounts[] = {
    "/sys/kernel/tracing", "/sys/kernel/debug/tracing",
};

/* "field:unsigned long a0;" -> "a0" (array suffixes dropped) */
static char *field_name(const char *decl)
{
    g_autofree char *d = g_strstrip(g_strdup(decl));
    char *bracket = strchr(d, '[');
    const char *name;

    if (bracket) {
        *bracket = 0;
    }
    g_strstrip(d);
    name = strrchr(d, ' ');
    name = name ? name + 1 : d;
    while (*name == '*') {
        name++;
    }
    return *name ? g_strdup(name) : NULL;
}

static void field_free(gpointer p)
{
    TracepointField *f = p;

    g_free(f->name);
    g_free(f);
}

static bool parse_field_line(const char *line, TracepointFormat *fmt)
{
    g_auto(GStrv) parts = g_strsplit(line, ";", -1);
    TracepointField *f;
    unsigned off = 0, size = 0;
    char *name;
    int i;

    if (!parts[0] || !g_str_has_prefix(g_strstrip(parts[0]), "field:")) {
        return true; /* not a field line */
    }
    name = field_name(parts[0] + strlen("field:"));
    for (i = 1; parts[i]; i++) {
        g_strstrip(parts[i]);
        if (sscanf(parts[i], "offset:%u", &off) == 1 ||
            sscanf(parts[i], "size:%u", &size) == 1) {
            continue;
        }
    }
    if (!name || !size) {
        g_free(name);
        return false;
    }
    f = g_new0(TracepointField, 1);
    f->name = name;
    f->offset = off;
    f->size = size;
    g_ptr_array_add(fmt->fields, f);
    return true;
}

bool tracepoint_format_parse(const char *text, TracepointFormat *fmt,
                             GError **errp)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    bool have_id = false;
    int i;

    fmt->id = 0;
    fmt->fields = g_ptr_array_new_with_free_func(field_free);
    for (i = 0; lines[i]; i++) {
        if (sscanf(lines[i], "ID: %u", &fmt->id) == 1) {
            have_id = true;
        } else if (!parse_field_line(lines[i], fmt)) {
            g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "bad field in tracepoint format, line %d: %s",
                        i + 1, lines[i]);
            tracepoint_format_free(fmt);
            return false;
        }
    }
    if (!have_id || fmt->fields->len == 0) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "not a tracepoint format file (no ID or no fields)");
        tracepoint_format_free(fmt);
        return false;
    }
    return true;
}

bool tracepoint_format_load(const char *system, const char *event,
                            TracepointFormat *fmt, GError **errp)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(tracefs_mounts); i++) {
        g_autofree char *path = g_strdup_printf("%s/events/%s/%s/format",
                                                tracefs_mounts[i], system,
                                                event);
        g_autofree char *text = NULL;
        g_autoptr(GError) err = NULL;

        if (!g_file_get_contents(path, &text, NULL, &err)) {
            if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                continue;
            }
            g_propagate_error(errp, g_steal_pointer(&err));
            return false;
        }
        return tracepoint_format_parse(text, fmt, errp);
    }
    g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "no tracefs with event %s:%s; mount it with "
                "'mount -t tracefs nodev /sys/kernel/tracing'", system, event);
    return false;
}

void tracepoint_format_free(TracepointFormat *fmt)
{
    if (fmt->fields) {
        g_ptr_array_free(fmt->fields, true);
        fmt->fields = NULL;
    }
}

const TracepointField *tracepoint_field(const TracepointFormat *fmt,
                                        const char *name)
{
    guint i;

    for (i = 0; i < fmt->fields->len; i++) {
        const TracepointField *f = g_ptr_array_index(fmt->fields, i);

        if (!strcmp(f->name, name)) {
            return f;
        }
    }
    return NULL;
}

bool tracepoint_sample_field(const TracepointSample *s,
                             const TracepointField *f, uint64_t *val)
{
    uint64_t v = 0;

    if (f->size > sizeof(v) || (uint64_t)f->offset + f->size > s->raw_size) {
        return false;
    }
    memcpy(&v, s->raw + f->offset, f->size); /* little-endian host */
    *val = v;
    return true;
}

bool tracepoint_reader_open(TracepointReader *r, uint32_t id, int tid,
                            unsigned order, GError **errp)
{
    struct perf_event_attr attr = {
        .type = PERF_TYPE_TRACEPOINT,
        .size = sizeof(attr),
        .config = id,
        .sample_period = 1,
        .sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                       PERF_SAMPLE_CPU | PERF_SAMPLE_RAW,
        .use_clockid = 1,
        .clockid = CLOCK_MONOTONIC,
        .watermark = 1,
        .wakeup_watermark = 1,
        .read_format = PERF_FORMAT_LOST,
    };
    long page = qemu_real_host_page_size();

    memset(r, 0, sizeof(*r));
    r->fd = syscall(SYS_perf_event_open, &attr, tid, -1, -1,
                    PERF_FLAG_FD_CLOEXEC);
    r->lost_by_read = r->fd >= 0;
    if (r->fd < 0 && errno == EINVAL) { /* Linux before 6.0 */
        attr.read_format = 0;
        r->fd = syscall(SYS_perf_event_open, &attr, tid, -1, -1,
                        PERF_FLAG_FD_CLOEXEC);
    }
    if (r->fd < 0) {
        int err = errno;

        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                    "perf_event_open on tracepoint %u of thread %d: %s%s",
                    id, tid, g_strerror(err),
                    err == EACCES || err == EPERM ?
                    "; run as root, grant CAP_PERFMON, or set "
                    "kernel.perf_event_paranoid=-1" : "");
        return false;
    }
    r->data_size = (uint64_t)page << order;
    r->ring_size = page + r->data_size;
    r->ring = mmap(NULL, r->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                   r->fd, 0);
    if (r->ring == MAP_FAILED) {
        int err = errno;

        close(r->fd);
        r->fd = -1;
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                    "mmap of the perf ring: %s", g_strerror(err));
        return false;
    }
    r->scratch = g_malloc(r->data_size);
    return true;
}

/* Parse PERF_SAMPLE_TID | TIME | CPU | RAW, in the kernel's order. */
static bool parse_sample(const uint8_t *p, size_t len, TracepointSample *s)
{
    uint32_t raw_size;

    if (len < 4 + 4 + 8 + 4 + 4 + 4) {
        return false;
    }
    memcpy(&s->pid, p, 4);
    memcpy(&s->tid, p + 4, 4);
    memcpy(&s->time_ns, p + 8, 8);
    memcpy(&s->cpu, p + 16, 4);
    memcpy(&raw_size, p + 24, 4);
    if (raw_size > len - 28) {
        return false;
    }
    s->raw = p + 28;
    s->raw_size = raw_size;
    return true;
}

/*
 * The kernel writes PERF_RECORD_LOST only with the next sample that fits
 * in the ring: after a burst that filled it, maybe never.  Its count of
 * lost samples can be read at any time (Linux 6.0 on).
 */
static void tracepoint_reader_read_lost(TracepointReader *r)
{
    uint64_t counts[2]; /* the count of hits, then of lost samples */

    if (r->lost_by_read &&
        read(r->fd, counts, sizeof(counts)) == sizeof(counts)) {
        r->lost = counts[1];
    }
}

size_t tracepoint_reader_drain(TracepointReader *r, TracepointSampleFn *fn,
                               void *opaque)
{
    struct perf_event_mmap_page *meta = r->ring;
    uint8_t *data = (uint8_t *)r->ring + (r->ring_size - r->data_size);
    uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    size_t n = 0;

    while (tail < head) {
        uint64_t off = tail % r->data_size;
        struct perf_event_header hdr;
        const uint8_t *rec;

        if (off + sizeof(hdr) <= r->data_size) {
            memcpy(&hdr, data + off, sizeof(hdr));
        } else {
            size_t first = r->data_size - off;

            memcpy(&hdr, data + off, first);
            memcpy((uint8_t *)&hdr + first, data, sizeof(hdr) - first);
        }
        if (hdr.size < sizeof(hdr) || hdr.size > head - tail) {
            tail = head; /* cannot happen with a sane kernel: resync */
            break;
        }
        rec = data + off;
        if (off + hdr.size > r->data_size) {
            size_t first = r->data_size - off;

            memcpy(r->scratch, data + off, first);
            memcpy(r->scratch + first, data, hdr.size - first);
            rec = r->scratch;
        }
        if (hdr.type == PERF_RECORD_SAMPLE) {
            TracepointSample s;

            if (parse_sample(rec + sizeof(hdr), hdr.size - sizeof(hdr),
                             &s)) {
                fn(&s, opaque);
                n++;
            }
        } else if (hdr.type == PERF_RECORD_LOST && !r->lost_by_read &&
                   hdr.size >= sizeof(hdr) + 16) {
            uint64_t lost;

            memcpy(&lost, rec + sizeof(hdr) + 8, 8);
            r->lost += lost;
        }
        tail += hdr.size;
    }
    __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
    tracepoint_reader_read_lost(r);
    return n;
}

void tracepoint_reader_close(TracepointReader *r)
{
    if (r->ring && r->ring != MAP_FAILED) {
        munmap(r->ring, r->ring_size);
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    g_free(r->scratch);
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}
