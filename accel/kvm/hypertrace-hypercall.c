/*
 * hypertrace's hypercall channel under KVM
 *
 * KVM answers vmcall in the kernel and never exits to QEMU for our
 * numbers, but its tracepoint kvm:kvm_hypercall fires for every one, at
 * any CPL.  We sample it for each vCPU thread with perf_event_open and
 * replay the samples into trace event hypertrace_hypercall, stamped with
 * the kernel's own CLOCK_MONOTONIC time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/thread.h"
#include "qemu/atomic.h"
#include "hw/core/cpu.h"
#include "hw/hypertrace/hypercall.h"
#include "hypertrace/abi.h"
#include "perf-tracepoint.h"

#define HC_KVM_RING_ORDER   6       /* 64 pages per vCPU */
#define HC_KVM_POLL_MS      100

typedef struct HcKvmCpu {
    TracepointReader reader;
    int cpu_index;
    uint64_t lost_reported;
} HcKvmCpu;

static struct {
    bool running;
    QemuThread thread;
    QemuMutex lock;             /* one drainer at a time */
    int stop_fd[2];
    TracepointFormat fmt;
    const TracepointField *nr, *args[4];
    GArray *cpus;               /* of HcKvmCpu */
} hc_kvm;

static void hc_kvm_sample(const TracepointSample *s, void *opaque)
{
    HcKvmCpu *c = opaque;
    HypertraceHypercall hc = { .cpu = c->cpu_index, .time_ns = s->time_ns };
    int i;

    if (!tracepoint_sample_field(s, hc_kvm.nr, &hc.nr)) {
        return;
    }
    for (i = 0; i < 4; i++) {
        if (!tracepoint_sample_field(s, hc_kvm.args[i], &hc.args[i])) {
            return;
        }
    }
    /* The tracepoint has no CPL: by the ABI, user space uses nr 2000. */
    hc.cpl = hc.nr == HT_HC_USER_FUNC ? 3 : 0;
    hypertrace_hypercall_record(&hc);
}

static void hc_kvm_drain(void)
{
    guint i;

    qemu_mutex_lock(&hc_kvm.lock);
    for (i = 0; i < hc_kvm.cpus->len; i++) {
        HcKvmCpu *c = &g_array_index(hc_kvm.cpus, HcKvmCpu, i);

        tracepoint_reader_drain(&c->reader, hc_kvm_sample, c);
        if (c->reader.lost > c->lost_reported) {
            /* samples the kernel could not store: its exact count */
            hypertrace_hypercall_lost(c->reader.lost - c->lost_reported);
            c->lost_reported = c->reader.lost;
        }
    }
    qemu_mutex_unlock(&hc_kvm.lock);
}

static void *hc_kvm_thread(void *opaque)
{
    guint n = hc_kvm.cpus->len, i;
    g_autofree struct pollfd *fds = g_new0(struct pollfd, n + 1);

    for (i = 0; i < n; i++) {
        fds[i].fd = g_array_index(hc_kvm.cpus, HcKvmCpu, i).reader.fd;
        fds[i].events = POLLIN;
    }
    fds[n].fd = hc_kvm.stop_fd[0];
    fds[n].events = POLLIN;
    while (qatomic_read(&hc_kvm.running)) {
        if (poll(fds, n + 1, HC_KVM_POLL_MS) < 0 && errno != EINTR) {
            break;
        }
        hc_kvm_drain();
    }
    return NULL;
}

static bool hc_kvm_load_format(Error **errp)
{
    static const char *const names[] = { "a0", "a1", "a2", "a3" };
    g_autoptr(GError) err = NULL;
    int i;

    if (!tracepoint_format_load("kvm", "kvm_hypercall", &hc_kvm.fmt, &err)) {
        error_setg(errp, "%s", err->message);
        return false;
    }
    hc_kvm.nr = tracepoint_field(&hc_kvm.fmt, "nr");
    for (i = 0; i < 4; i++) {
        hc_kvm.args[i] = tracepoint_field(&hc_kvm.fmt, names[i]);
        if (!hc_kvm.args[i]) {
            break;
        }
    }
    if (!hc_kvm.nr || i < 4) {
        error_setg(errp, "kvm:kvm_hypercall has no field nr, a0..a3");
        tracepoint_format_free(&hc_kvm.fmt);
        return false;
    }
    return true;
}

static bool hc_kvm_open_cpus(Error **errp)
{
    CPUState *cpu;

    hc_kvm.cpus = g_array_new(false, true, sizeof(HcKvmCpu));
    CPU_FOREACH(cpu) {
        HcKvmCpu c = { .cpu_index = cpu->cpu_index };
        g_autoptr(GError) err = NULL;

        if (!tracepoint_reader_open(&c.reader, hc_kvm.fmt.id, cpu->thread_id,
                                    HC_KVM_RING_ORDER, &err)) {
            error_setg(errp, "%s", err->message);
            return false;
        }
        g_array_append_val(hc_kvm.cpus, c);
    }
    return true;
}

static void hc_kvm_close_cpus(void)
{
    guint i;

    for (i = 0; hc_kvm.cpus && i < hc_kvm.cpus->len; i++) {
        tracepoint_reader_close(&g_array_index(hc_kvm.cpus, HcKvmCpu,
                                               i).reader);
    }
    g_clear_pointer(&hc_kvm.cpus, g_array_unref);
}

bool hypertrace_kvm_hypercalls_start(void)
{
    Error *err = NULL;

    if (hc_kvm.running) {
        return true;
    }
    if (!hc_kvm_load_format(&err) || !hc_kvm_open_cpus(&err)) {
        warn_reportf_err(err, "hypertrace: the hypercall channel is off "
                         "under KVM: ");
        error_printf("It reads the host tracepoint kvm:kvm_hypercall: run "
                     "QEMU as root or with CAP_PERFMON (or set "
                     "kernel.perf_event_paranoid=-1), with tracefs mounted "
                     "on /sys/kernel/tracing.\n");
        hc_kvm_close_cpus();
        tracepoint_format_free(&hc_kvm.fmt);
        return false;
    }
    if (!g_unix_open_pipe(hc_kvm.stop_fd, FD_CLOEXEC, NULL)) {
        hc_kvm_close_cpus();
        tracepoint_format_free(&hc_kvm.fmt);
        warn_report("hypertrace: cannot create a pipe for the KVM reader");
        return false;
    }
    qemu_mutex_init(&hc_kvm.lock);
    qatomic_set(&hc_kvm.running, true);
    qemu_thread_create(&hc_kvm.thread, "hypertrace-kvm", hc_kvm_thread,
                       NULL, QEMU_THREAD_JOINABLE);
    return true;
}

/* Stop the reader after draining every sample the kernel holds. */
void hypertrace_kvm_hypercalls_stop(void)
{
    if (!hc_kvm.running) {
        return;
    }
    qatomic_set(&hc_kvm.running, false);
    if (write(hc_kvm.stop_fd[1], "x", 1) != 1) {
        /* the thread still ends at its next poll timeout */
    }
    qemu_thread_join(&hc_kvm.thread);
    hc_kvm_drain();
    hc_kvm_close_cpus();
    tracepoint_format_free(&hc_kvm.fmt);
    close(hc_kvm.stop_fd[0]);
    close(hc_kvm.stop_fd[1]);
    qemu_mutex_destroy(&hc_kvm.lock);
}
