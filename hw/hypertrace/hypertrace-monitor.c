/*
 * hypertrace: QMP query-hypertrace and HMP info hypertrace
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/lockable.h"
#include "qapi/qapi-commands-hypertrace.h"
#include "qom/object.h"
#include "monitor/monitor.h"
#include "monitor/hmp.h"
#include "hw/hypertrace/hypertrace.h"
#include "hw/hypertrace/probe.h"

/* A device's counters as of the drain thread's last chunk. */
static HypertraceInfo *query_device(HypertraceState *s)
{
    HypertraceInfo *info = g_new0(HypertraceInfo, 1);
    HypertraceRingInfoList **tail = &info->rings;
    uint32_t r;

    info->path = object_get_canonical_path(OBJECT(s));
    info->mode = g_strdup(s->mode_name);
    info->ring_size = 1u << s->ring_order;
    info->clients = s->nr_clients;
    info->errors = qatomic_read(&s->errors);
    WITH_QEMU_LOCK_GUARD(&s->drain_lock) { /* counters of one moment */
        for (r = 0; r < s->nr_rings; r++) {
            HypertraceRingInfo *ri = g_new0(HypertraceRingInfo, 1);

            ri->ring = r;
            ri->published = s->rings[r].published;
            ri->consumed = s->rings[r].consumed;
            ri->lost = s->rings[r].lost;
            ri->errors = s->rings[r].errors;
            ri->halted = s->rings[r].halted;
            QAPI_LIST_APPEND(tail, ri);
        }
    }
    if (s->has_probes) {
        info->probes = hypertrace_probes_info();
    }
    return info;
}

static int query_one(Object *obj, void *opaque)
{
    HypertraceInfoList ***tail = opaque;

    if (object_dynamic_cast(obj, TYPE_HYPERTRACE)) {
        QAPI_LIST_APPEND(*tail, query_device(HYPERTRACE(obj)));
    }
    return 0;
}

HypertraceInfoList *qmp_query_hypertrace(Error **errp)
{
    HypertraceInfoList *list = NULL, **tail = &list;

    object_child_foreach_recursive(object_get_root(), query_one, &tail);
    return list;
}

static void hmp_info_probes(Monitor *mon, const HypertraceProbeInfo *p)
{
    monitor_printf(mon, "  probes: %" PRIu32 " functions, %" PRIu32
                   " milestones, kernel %s", p->functions, p->milestones,
                   p->kernel);
    if (p->kaslr_offset) {
        monitor_printf(mon, " at %+" PRId64 " MiB (KASLR)",
                       p->kaslr_offset / (1024 * 1024));
    }
    monitor_printf(mon, ", %" PRIu32 " return sites, %" PRIu32 " pending, %"
                   PRIu64 " untracked returns\n", p->return_sites,
                   p->pending_returns, p->untracked_returns);
}

static void hmp_info_hypertrace(Monitor *mon, const QDict *qdict)
{
    g_autoptr(HypertraceInfoList) list = qmp_query_hypertrace(NULL);
    HypertraceInfoList *dev;
    HypertraceRingInfoList *r;

    if (!list) {
        monitor_printf(mon, "No hypertrace device\n");
    }
    for (dev = list; dev; dev = dev->next) {
        HypertraceInfo *info = dev->value;

        monitor_printf(mon, "%s: mode %s, %" PRIu32 " records per ring, "
                       "%" PRIu32 " clients, %" PRIu64 " errors\n",
                       info->path, info->mode, info->ring_size,
                       info->clients, info->errors);
        monitor_printf(mon, "  %4s %12s %12s %12s %8s %s\n", "ring",
                       "published", "consumed", "lost", "errors", "state");
        for (r = info->rings; r; r = r->next) {
            monitor_printf(mon, "  %4" PRIu32 " %12" PRIu64 " %12" PRIu64
                           " %12" PRIu64 " %8" PRIu64 " %s\n",
                           r->value->ring, r->value->published,
                           r->value->consumed, r->value->lost,
                           r->value->errors,
                           r->value->halted ? "halted" : "ok");
        }
        if (info->probes) {
            hmp_info_probes(mon, info->probes);
        }
    }
}

static void hypertrace_monitor_register(void)
{
    monitor_register_hmp("hypertrace", true, hmp_info_hypertrace);
}

type_init(hypertrace_monitor_register)
