/*
 * Unit tests of the host tracepoint reader behind the KVM hypercall
 * channel: the kvm_hypercall format file recorded on a real host, and a
 * live tracepoint (syscalls:sys_enter_getppid) read end to end.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <glib.h>
#include "perf-tracepoint.h"

static const char *data_dir;

static void test_kvm_hypercall_format(void)
{
    g_autofree char *path = g_build_filename(data_dir,
                                             "kvm_hypercall.format", NULL);
    g_autofree char *text = NULL;
    static const char *const names[] = { "nr", "a0", "a1", "a2", "a3" };
    TracepointFormat fmt;
    GError *err = NULL;
    int i;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(tracepoint_format_parse(text, &fmt, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(fmt.id, ==, 114);
    g_assert_cmpuint(fmt.fields->len, ==, 9);
    for (i = 0; i < 5; i++) {
        const TracepointField *f = tracepoint_field(&fmt, names[i]);

        g_assert_nonnull(f);
        g_assert_cmpuint(f->offset, ==, 8 + 8 * i);
        g_assert_cmpuint(f->size, ==, 8);
    }
    g_assert_cmpuint(tracepoint_field(&fmt, "common_pid")->offset, ==, 4);
    g_assert_null(tracepoint_field(&fmt, "a4"));
    tracepoint_format_free(&fmt);
}

static void test_sample_bounds(void)
{
    uint8_t raw[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    TracepointSample s = { .raw = raw, .raw_size = 12 };
    TracepointField inside = { .offset = 4, .size = 8 };
    TracepointField past = { .offset = 8, .size = 8 };
    TracepointField huge = { .offset = 0xfffffffc, .size = 8 };
    uint64_t v;

    g_assert_true(tracepoint_sample_field(&s, &inside, &v));
    g_assert_cmphex(v, ==, 0x0c0b0a0908070605ull);
    g_assert_false(tracepoint_sample_field(&s, &past, &v));
    g_assert_false(tracepoint_sample_field(&s, &huge, &v));
}

static void test_bad_format(void)
{
    TracepointFormat fmt;
    GError *err = NULL;

    g_assert_false(tracepoint_format_parse("name: x\nformat:\n", &fmt, &err));
    g_assert_nonnull(strstr(err->message, "not a tracepoint format"));
    g_clear_error(&err);
    g_assert_false(tracepoint_format_parse(
        "ID: 3\n\tfield:int ;\toffset:0;\tsize:0;\n", &fmt, &err));
    g_assert_nonnull(strstr(err->message, "bad field"));
    g_clear_error(&err);
}

typedef struct Seen {
    int n;
    uint32_t tid;
    uint64_t first_ns, last_ns;
    uint64_t nr_sum;
    const TracepointField *nr;
} Seen;

static void on_sample(const TracepointSample *s, void *opaque)
{
    Seen *seen = opaque;
    uint64_t nr;

    g_assert_cmpuint(s->tid, ==, seen->tid);
    g_assert_true(tracepoint_sample_field(s, seen->nr, &nr));
    seen->nr_sum += nr;
    if (!seen->n++) {
        seen->first_ns = s->time_ns;
    }
    g_assert_cmpuint(s->time_ns, >=, seen->last_ns);
    seen->last_ns = s->time_ns;
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The whole path on a tracepoint that fires on every host. */
static void test_live_tracepoint(void)
{
    TracepointFormat fmt;
    TracepointReader r;
    Seen seen = { .tid = syscall(SYS_gettid) };
    GError *err = NULL;
    uint64_t t0, t1;
    int i;

    if (!tracepoint_format_load("syscalls", "sys_enter_getppid", &fmt,
                                &err)) {
        g_test_skip(err->message);
        g_clear_error(&err);
        return;
    }
    seen.nr = tracepoint_field(&fmt, "__syscall_nr");
    g_assert_nonnull(seen.nr);
    /* 1 data page: 3000 samples must wrap the ring many times */
    if (!tracepoint_reader_open(&r, fmt.id, seen.tid, 0, &err)) {
        g_test_skip(err->message);
        g_clear_error(&err);
        tracepoint_format_free(&fmt);
        return;
    }
    t0 = monotonic_ns();
    for (i = 0; i < 3000; i++) {
        syscall(SYS_getppid);
        if (i % 20 == 19) {
            tracepoint_reader_drain(&r, on_sample, &seen);
        }
    }
    t1 = monotonic_ns();
    tracepoint_reader_drain(&r, on_sample, &seen);
    g_assert_cmpuint(r.lost, ==, 0);
    g_assert_cmpint(seen.n, ==, 3000);
    g_assert_cmpuint(seen.nr_sum, ==, 3000ull * SYS_getppid);
    g_assert_cmpuint(seen.first_ns, >=, t0);
    g_assert_cmpuint(seen.last_ns, <=, t1);
    tracepoint_reader_close(&r);
    tracepoint_format_free(&fmt);
}

/* A full ring loses samples; the kernel's count of them is exact. */
static void test_lost_samples_counted(void)
{
    TracepointFormat fmt;
    TracepointReader r;
    Seen seen = { .tid = syscall(SYS_gettid) };
    GError *err = NULL;
    int i;

    if (!tracepoint_format_load("syscalls", "sys_enter_getppid", &fmt,
                                &err) ||
        !tracepoint_reader_open(&r, fmt.id, seen.tid, 0, &err)) {
        g_test_skip(err->message);
        g_clear_error(&err);
        return;
    }
    seen.nr = tracepoint_field(&fmt, "__syscall_nr");
    for (i = 0; i < 5000; i++) {
        syscall(SYS_getppid); /* one page holds far fewer: no drain */
    }
    /* the burst is over: no later sample carries the loss */
    tracepoint_reader_drain(&r, on_sample, &seen);
    g_assert_cmpuint(r.lost, >, 0);
    g_assert_cmpuint(seen.n + r.lost, ==, 5000);
    tracepoint_reader_close(&r);
    tracepoint_format_free(&fmt);
}

/* Without the right to read it, the error names the fixes. */
static void test_denied_names_the_fix(void)
{
    TracepointFormat fmt;
    GError *err = NULL;
    int status;
    pid_t pid;

    if (getuid() != 0) {
        g_test_skip("needs root to drop to an unprivileged user");
        return;
    }
    if (!tracepoint_format_load("syscalls", "sys_enter_getppid", &fmt,
                                &err)) {
        g_test_skip(err->message);
        g_clear_error(&err);
        return;
    }
    pid = fork();
    if (pid == 0) {
        TracepointReader r;

        if (setgid(65534) || setuid(65534)) {
            _exit(3);
        }
        if (tracepoint_reader_open(&r, fmt.id, getpid(), 0, &err)) {
            _exit(2); /* perf_event_paranoid allows it: nothing to check */
        }
        _exit(strstr(err->message, "CAP_PERFMON") &&
              strstr(err->message, "perf_event_paranoid") ? 0 : 1);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    tracepoint_format_free(&fmt);
    if (WEXITSTATUS(status) == 2) {
        g_test_skip("kernel.perf_event_paranoid lets anyone read it here");
        return;
    }
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    data_dir = g_getenv("HT_TEST_DATA");
    g_assert_nonnull(data_dir);
    g_test_add_func("/tracepoint/kvm-hypercall-format",
                    test_kvm_hypercall_format);
    g_test_add_func("/tracepoint/sample-bounds", test_sample_bounds);
    g_test_add_func("/tracepoint/bad-format", test_bad_format);
    g_test_add_func("/tracepoint/live", test_live_tracepoint);
    g_test_add_func("/tracepoint/lost-samples-counted",
                    test_lost_samples_counted);
    g_test_add_func("/tracepoint/denied-names-the-fix",
                    test_denied_names_the_fix);
    return g_test_run();
}
