/*
 * QTest testcase for the hypertrace device
 *
 * Drives the control BAR and real guest memory in the data BAR the way a
 * guest producer does, and checks what reaches the log trace backend.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "hypertrace/abi.h"
#include "hypertrace-fuzz.h"

#define HT_DEVFN QPCI_DEVFN(4, 0)

typedef struct HtTest {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar ctrl;
    uint64_t ctrl_size;
    uint64_t data;      /* guest-physical address of the data BAR */
    uint64_t data_size;
    uint32_t stride;
    uint32_t order;
    uint64_t barrier;   /* positions published on the last ring so far */
    char *trace;        /* the simple backend's file */
} HtTest;

static void ht_start(HtTest *t, const char *props)
{
    QPCIBar data;

    t->trace = g_strdup_printf("/tmp/hypertrace-test-%d.simple", getpid());
    unlink(t->trace);
    t->qts = qtest_initf("-smp 2 -device hypertrace,addr=04.0%s "
                         "-trace enable=hypertrace_*,file=%s",
                         props, t->trace);
    t->bus = qpci_new_pc(t->qts, NULL);
    t->dev = qpci_device_find(t->bus, HT_DEVFN);
    g_assert(t->dev);
    qpci_device_enable(t->dev);
    t->ctrl = qpci_iomap(t->dev, HT_CTRL_BAR, &t->ctrl_size);
    data = qpci_iomap(t->dev, HT_DATA_BAR, &t->data_size);
    t->data = data.addr;
    t->stride = qpci_io_readl(t->dev, t->ctrl, HT_REG_RING_STRIDE);
    t->order = qpci_io_readl(t->dev, t->ctrl, HT_REG_RING_ORDER);
}

/* simpletrace (trace/simple.c): a record's type, then its fields */
#define ST_MAPPING 0
#define ST_EVENT 1
#define ST_HEADER_WORDS 3

/* The events these tests read, as the log backend would print them */
static void st_print(GString *out, const char *name, const uint64_t *a,
                     size_t n)
{
    if (!strcmp(name, "hypertrace_event") && n == 10) {
        g_string_append_printf(out, "%s ring=%u id=%u a0=0x%" PRIx64
                               " a1=0x%" PRIx64 " a2=0x%" PRIx64 " a3=0x%"
                               PRIx64 " a4=0x%" PRIx64 " a5=0x%" PRIx64
                               " tsc=%" PRIu64 " ns=%" PRIu64 "\n", name,
                               (uint32_t)a[0], (uint32_t)a[1], a[2], a[3],
                               a[4], a[5], a[6], a[7], a[8], a[9]);
    } else if (!strcmp(name, "hypertrace_sync") && n == 8) {
        g_string_append_printf(out, "%s client=%u id=%u a0=0x%" PRIx64
                               " a1=0x%" PRIx64 " a2=0x%" PRIx64 " a3=0x%"
                               PRIx64 " a4=0x%" PRIx64 " a5=0x%" PRIx64 "\n",
                               name, (uint32_t)a[0], (uint32_t)a[1], a[2],
                               a[3], a[4], a[5], a[6], a[7]);
    } else if (!strcmp(name, "hypertrace_lost") && n == 2) {
        g_string_append_printf(out, "%s ring=%u count=%" PRIu64 "\n", name,
                               (uint32_t)a[0], a[1]);
    } else if (!strcmp(name, "hypertrace_guest_error") && n == 3) {
        g_string_append_printf(out, "%s ring=0x%x code=%u value=0x%" PRIx64
                               "\n", name, (uint32_t)a[0], (uint32_t)a[1],
                               a[2]);
    } else {
        g_string_append_printf(out, "%s\n", name);
    }
}

/* The simple backend's file as text, one line per record */
static char *st_to_text(const char *path)
{
    g_autoptr(GHashTable) names = g_hash_table_new_full(NULL, NULL, NULL,
                                                        g_free);
    g_autoptr(GString) out = g_string_new("");
    g_autofree char *buf = NULL;
    const char *p, *end;
    size_t len;

    g_assert(g_file_get_contents(path, &buf, &len, NULL));
    g_assert_cmpuint(len, >=, ST_HEADER_WORDS * 8);
    p = buf + ST_HEADER_WORDS * 8;
    end = buf + len;
    while (p + 8 <= end) {
        uint64_t type, id;
        uint32_t n;

        memcpy(&type, p, 8);
        memcpy(&id, p + 8, 8);
        if (type == ST_MAPPING) {
            memcpy(&n, p + 16, 4);
            g_hash_table_insert(names, GSIZE_TO_POINTER(id),
                                g_strndup(p + 20, n));
            p += 20 + n;
        } else {
            const char *name = g_hash_table_lookup(names,
                                                   GSIZE_TO_POINTER(id));
            uint64_t args[16];

            g_assert_cmpuint(type, ==, ST_EVENT);
            memcpy(&n, p + 24, 4); /* after the event id and timestamp */
            g_assert_cmpuint(n, >=, 24);
            g_assert_cmpuint(n - 24, <=, sizeof(args));
            g_assert(p + 8 + n <= end);
            memcpy(args, p + 32, n - 24);
            st_print(out, name ? name : "dropped", args, (n - 24) / 8);
            p += 8 + n;
        }
    }
    return g_strdup(out->str);
}

static char *ht_stop(HtTest *t)
{
    char *out;

    g_free(t->dev);
    qpci_free_pc(t->bus);
    qtest_quit(t->qts);
    out = st_to_text(t->trace);
    unlink(t->trace);
    g_free(t->trace);
    return out;
}

static uint64_t ring_addr(HtTest *t, uint32_t ring)
{
    return t->data + (uint64_t)ring * t->stride;
}

static uint64_t record_addr(HtTest *t, uint32_t ring, uint64_t pos)
{
    uint64_t slot = pos & ((1u << t->order) - 1);

    return ring_addr(t, ring) + HT_RING_HEADER_SIZE + slot * HT_RECORD_SIZE;
}

static uint64_t arg_value(uint64_t pos, int i)
{
    return 0x1000000000ull * (i + 1) + pos;
}

/* Write and commit the record at position @pos, as a producer does. */
static void put_record(HtTest *t, uint32_t ring, uint64_t pos, uint32_t id)
{
    struct ht_record rec = {
        .commit = (uint32_t)(pos + 1),
        .id = id,
        .tsc = 1000 + pos,
    };
    int i;

    for (i = 0; i < HT_NR_ARGS; i++) {
        rec.args[i] = arg_value(pos, i);
    }
    qtest_memwrite(t->qts, record_addr(t, ring, pos), &rec, sizeof(rec));
}

static void set_header(HtTest *t, uint32_t ring, size_t field, uint64_t v)
{
    qtest_writeq(t->qts, ring_addr(t, ring) + field, v);
}

/* Commit positions [from, to) and publish them: reserve = to. */
static void publish(HtTest *t, uint32_t ring, uint64_t from, uint64_t to,
                    uint32_t id)
{
    uint64_t pos;

    for (pos = from; pos < to; pos++) {
        put_record(t, ring, pos, id);
    }
    set_header(t, ring, offsetof(struct ht_ring_header, reserve), to);
}

static uint64_t ring_reg(HtTest *t, uint32_t ring, uint32_t reg)
{
    if (reg == HT_RING_STATUS) {
        /* 32 bits: the register above it is write-only */
        return qpci_io_readl(t->dev, t->ctrl, HT_RING_REG(ring, reg));
    }
    return qpci_io_readq(t->dev, t->ctrl, HT_RING_REG(ring, reg));
}

static void doorbell(HtTest *t, uint32_t ring, uint32_t ctl)
{
    qpci_io_writel(t->dev, t->ctrl, HT_RING_REG(ring, HT_RING_CONTROL), ctl);
}

/* The consumer runs in the drain thread: wait until it caught up. */
static void wait_consumed(HtTest *t, uint32_t ring, uint64_t want)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (ring_reg(t, ring, HT_RING_CONSUMED) + ring_reg(t, ring, HT_RING_LOST)
           < want) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
}

/*
 * Wait for a drain pass that started after this call: one that takes a
 * record published now on the last ring (which these tests leave alone).
 */
static void drain_barrier(HtTest *t)
{
    uint32_t last = qpci_io_readl(t->dev, t->ctrl, HT_REG_NR_RINGS) - 1;

    t->barrier++;
    publish(t, last, t->barrier - 1, t->barrier, 0);
    doorbell(t, last, HT_RING_CTL_DOORBELL);
    wait_consumed(t, last, t->barrier);
}

static int count_lines(const char *log, const char *needle)
{
    int n = 0;
    const char *p = log;

    while ((p = strstr(p, needle))) {
        n++;
        p++;
    }
    return n;
}

/* How many lines with @needle come before the first line with @mark */
static int count_lines_before(const char *log, const char *needle,
                              const char *mark)
{
    const char *end = strstr(log, mark);
    g_autofree char *head = NULL;

    g_assert(end);
    head = g_strndup(log, end - log);
    return count_lines(head, needle);
}

/* Check that positions [first, last) of @ring arrived once, in order. */
static void check_events(const char *log, uint32_t ring, uint64_t first,
                         uint64_t last, uint32_t id)
{
    const char *p = log;
    uint64_t pos;

    for (pos = first; pos < last; pos++) {
        g_autofree char *line = g_strdup_printf(
            "hypertrace_event ring=%u id=%u a0=0x%" PRIx64 " a1=0x%" PRIx64
            " a2=0x%" PRIx64 " a3=0x%" PRIx64 " a4=0x%" PRIx64
            " a5=0x%" PRIx64 " tsc=%" PRIu64 " ", ring, id,
            arg_value(pos, 0), arg_value(pos, 1), arg_value(pos, 2),
            arg_value(pos, 3), arg_value(pos, 4), arg_value(pos, 5),
            1000 + pos);
        const char *hit = strstr(p, line);

        if (!hit) {
            g_test_message("missing or out of order: %s", line);
            g_assert_not_reached();
        }
        g_assert(!strstr(hit + 1, line));
        p = hit + 1;
    }
}

static void test_ids_and_bars(void)
{
    HtTest t = { 0 };
    uint32_t bar2;

    ht_start(&t, "");
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_VENDOR_ID), ==,
                    HT_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_DEVICE_ID), ==,
                    HT_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readb(t.dev, PCI_REVISION_ID), ==,
                    HT_PCI_REVISION);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_CLASS_DEVICE), ==,
                    HT_PCI_CLASS);
    g_assert_cmpuint(t.ctrl_size, ==, HT_CTRL_BAR_SIZE);
    bar2 = qpci_config_readl(t.dev, PCI_BASE_ADDRESS_0 + 4 * HT_DATA_BAR);
    g_assert_cmphex(bar2 & 0xf, ==, PCI_BASE_ADDRESS_SPACE_MEMORY |
                    PCI_BASE_ADDRESS_MEM_TYPE_64 |
                    PCI_BASE_ADDRESS_MEM_PREFETCH);
    /* 2 rings of 65536 records: (256 + 65536 * 64) rounded to 4 KiB, x2 */
    g_assert_cmpuint(t.stride, ==, 4198400);
    g_assert_cmpuint(t.data_size, ==, 16 * 1024 * 1024);
    g_free(ht_stop(&t));
}

static void test_geometry(void)
{
    HtTest t = { 0 };
    QPCIDevice *d;

    ht_start(&t, ",ring-size=64,mode=overwrite,clients=3");
    d = t.dev;
    g_assert_cmphex(qpci_io_readl(d, t.ctrl, HT_REG_MAGIC), ==, HT_MAGIC);
    g_assert_cmpuint(qpci_io_readl(d, t.ctrl, HT_REG_VERSION), ==,
                     HT_ABI_VERSION);
    g_assert_cmphex(qpci_io_readl(d, t.ctrl, HT_REG_FEATURES), ==,
                    HT_FEAT_RINGS | HT_FEAT_SYNC | HT_FEAT_HYPERCALLS);
    g_assert_cmpuint(qpci_io_readl(d, t.ctrl, HT_REG_MODE), ==,
                     HT_MODE_OVERWRITE);
    g_assert_cmpuint(qpci_io_readl(d, t.ctrl, HT_REG_NR_RINGS), ==, 2);
    g_assert_cmpuint(t.order, ==, 6);
    g_assert_cmpuint(qpci_io_readl(d, t.ctrl, HT_REG_RECORD_SIZE), ==, 64);
    g_assert_cmpuint(qpci_io_readl(d, t.ctrl, HT_REG_NR_ARGS), ==, 6);
    g_assert_cmpuint(t.stride, ==, 8192);
    g_assert_cmpuint(qpci_io_readl(d, t.ctrl, HT_REG_NR_CLIENTS), ==, 3);
    g_assert_cmpuint(qpci_io_readl(d, t.ctrl, HT_REG_WATERMARK), ==, 32);
    g_assert_cmpuint(qpci_io_readq(d, t.ctrl, HT_REG_ERRORS), ==, 0);
    /* the device copies the geometry into each ring header */
    g_assert_cmpuint(qtest_readl(t.qts, ring_addr(&t, 1) +
                     offsetof(struct ht_ring_header, order)), ==, 6);
    g_assert_cmpuint(qtest_readl(t.qts, ring_addr(&t, 1) +
                     offsetof(struct ht_ring_header, ring)), ==, 1);
    g_assert_cmpuint(qtest_readl(t.qts, ring_addr(&t, 1) +
                     offsetof(struct ht_ring_header, stride)), ==, 8192);
    g_free(ht_stop(&t));
}

static void test_sync_emit(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;
    int i;

    ht_start(&t, "");
    for (i = 0; i < HT_NR_ARGS; i++) {
        qpci_io_writeq(t.dev, t.ctrl, HT_CLIENT_REG(1, HT_CLIENT_ARG(i)),
                       0xa0a0a0a000000000ull + i);
    }
    g_assert_cmphex(qpci_io_readq(t.dev, t.ctrl,
                    HT_CLIENT_REG(1, HT_CLIENT_ARG(5))), ==,
                    0xa0a0a0a000000005ull);
    qpci_io_writel(t.dev, t.ctrl, HT_CLIENT_REG(1, HT_CLIENT_EMIT), 42);
    /* only the low half of argument 0 changes */
    qpci_io_writel(t.dev, t.ctrl, HT_CLIENT_REG(1, HT_CLIENT_ARG(0)), 7);
    qpci_io_writel(t.dev, t.ctrl, HT_CLIENT_REG(1, HT_CLIENT_EMIT), 43);
    /* an 8-byte write emits once, with the low half as the id */
    qpci_io_writeq(t.dev, t.ctrl, HT_CLIENT_REG(1, HT_CLIENT_EMIT),
                   0xffffffff00000044ull);
    g_assert_cmpuint(qpci_io_readq(t.dev, t.ctrl, HT_REG_ERRORS), ==, 0);
    log = ht_stop(&t);
    g_assert(strstr(log, "hypertrace_sync client=1 id=42 "
                    "a0=0xa0a0a0a000000000 a1=0xa0a0a0a000000001 "
                    "a2=0xa0a0a0a000000002 a3=0xa0a0a0a000000003 "
                    "a4=0xa0a0a0a000000004 a5=0xa0a0a0a000000005\n"));
    g_assert(strstr(log, "hypertrace_sync client=1 id=43 "
                    "a0=0xa0a0a0a000000007 a1=0xa0a0a0a000000001 "));
    g_assert(strstr(log, "hypertrace_sync client=1 id=68 "));
    g_assert_cmpint(count_lines(log, "hypertrace_sync "), ==, 3);
}

static void test_ring_drain(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;
    uint64_t pos;

    ht_start(&t, ",ring-size=64,drain-budget=7");
    /* three laps of ring 1, 50 records at a time */
    for (pos = 0; pos < 150; pos += 50) {
        publish(&t, 1, pos, pos + 50, 9);
        doorbell(&t, 1, HT_RING_CTL_DOORBELL);
        wait_consumed(&t, 1, pos + 50);
        g_assert_cmpuint(qtest_readq(t.qts, ring_addr(&t, 1) +
                         offsetof(struct ht_ring_header, consumer)),
                         ==, pos + 50);
    }
    g_assert_cmpuint(ring_reg(&t, 1, HT_RING_PUBLISHED), ==, 150);
    g_assert_cmpuint(ring_reg(&t, 1, HT_RING_CONSUMED), ==, 150);
    g_assert_cmpuint(ring_reg(&t, 1, HT_RING_LOST), ==, 0);
    g_assert_cmpuint(ring_reg(&t, 1, HT_RING_ERRORS), ==, 0);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 0);
    log = ht_stop(&t);
    check_events(log, 1, 0, 150, 9);
    g_assert_cmpint(count_lines(log, "hypertrace_event "), ==, 150);
    g_assert_cmpint(count_lines(log, "hypertrace_lost "), ==, 0);
}

static void test_discard_full(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    ht_start(&t, ",ring-size=16");
    /* exactly full, and producers dropped 5 more */
    publish(&t, 0, 0, 16, 3);
    set_header(&t, 0, offsetof(struct ht_ring_header, lost), 5);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 21);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 16);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_LOST), ==, 5);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_STATUS), ==, 0);
    log = ht_stop(&t);
    check_events(log, 0, 0, 16, 3);
    g_assert(strstr(log, "hypertrace_lost ring=0 count=5\n"));
    g_assert_cmpint(count_lines(log, "hypertrace_lost "), ==, 1);
}

static void test_overwrite(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    ht_start(&t, ",ring-size=16,mode=overwrite");
    /* 20 records into 16 slots: the oldest 4 were overwritten */
    publish(&t, 0, 0, 20, 4);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 20);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 16);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_LOST), ==, 4);
    log = ht_stop(&t);
    check_events(log, 0, 4, 20, 4);
    g_assert_cmpint(count_lines(log, "hypertrace_event "), ==, 16);
    g_assert(strstr(log, "hypertrace_lost ring=0 count=4\n"));
}

static void expect_halt(HtTest *t, uint64_t reserve, uint64_t errors)
{
    set_header(t, 0, offsetof(struct ht_ring_header, reserve), reserve);
    doorbell(t, 0, HT_RING_CTL_DOORBELL);
    while (ring_reg(t, 0, HT_RING_STATUS) != HT_RING_ST_HALTED) {
        g_usleep(1000);
    }
    g_assert_cmpuint(ring_reg(t, 0, HT_RING_ERRORS), ==, errors);
    doorbell(t, 0, HT_RING_CTL_RESET);
    g_assert_cmpuint(ring_reg(t, 0, HT_RING_STATUS), ==, 0);
}

static void test_bad_indices(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    ht_start(&t, ",ring-size=16");
    expect_halt(&t, 17, 1);                 /* ahead by more than the size */
    expect_halt(&t, UINT64_MAX - 3, 2);     /* wrapped */
    publish(&t, 0, 0, 4, 5);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 4);
    expect_halt(&t, 2, 3);                  /* behind the consumer */
    /* after the reset the ring works again, from the last position seen */
    g_assert_cmpuint(qtest_readq(t.qts, ring_addr(&t, 0) +
                     offsetof(struct ht_ring_header, reserve)), ==, 4);
    publish(&t, 0, 4, 7, 6);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 7);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 7);
    g_assert_cmpuint(qpci_io_readq(t.dev, t.ctrl, HT_REG_ERRORS), ==, 3);
    log = ht_stop(&t);
    check_events(log, 0, 0, 4, 5);
    check_events(log, 0, 4, 7, 6);
    g_assert(strstr(log, "hypertrace_guest_error ring=0x0 code=6 "
                    "value=0x11\n"));
    g_assert(strstr(log, "hypertrace_guest_error ring=0x0 code=5 "
                    "value=0x2\n"));
}

static void test_bad_registers(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    ht_start(&t, "");
    qpci_io_writel(t.dev, t.ctrl, HT_REG_MAGIC, 1);           /* RO */
    g_assert_cmpuint(qpci_io_readl(t.dev, t.ctrl, 0x0ffc), ==, 0);
    g_assert_cmpuint(qpci_io_readl(t.dev, t.ctrl,
                     HT_RING_REG(2, HT_RING_STATUS)), ==, 0); /* no ring 2 */
    qpci_io_writel(t.dev, t.ctrl, HT_CLIENT_REG(2, HT_CLIENT_EMIT), 1);
    doorbell(&t, 0, 0x80);
    g_assert_cmphex(qpci_io_readl(t.dev, t.ctrl, HT_REG_MAGIC), ==, HT_MAGIC);
    g_assert_cmpuint(qpci_io_readq(t.dev, t.ctrl, HT_REG_ERRORS), ==, 5);
    log = ht_stop(&t);
    g_assert_cmpint(count_lines(log, "hypertrace_sync "), ==, 0);
    g_assert(strstr(log, "code=1 value=0x0\n"));
    g_assert(strstr(log, "code=2 value=0x1080\n"));
    g_assert(strstr(log, "code=3 value=0x20b0\n"));
    g_assert(strstr(log, "ring=0x0 code=4 value=0x80\n"));
}

static void test_random_writes(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;
    uint64_t start;
    int i;

    ht_start(&t, ",ring-size=16");
    for (i = 0; i < 20000; i++) {
        uint64_t v = ((uint64_t)g_test_rand_int() << 32) | g_test_rand_int();
        uint32_t off = g_test_rand_int_range(0, HT_CTRL_BAR_SIZE / 4) * 4;

        if (i % 2) {
            qtest_writeq(t.qts, t.data + (v % (t.data_size / 8)) * 8, v);
        } else if (off != HT_RING_REG(0, HT_RING_CONTROL) &&
                   off != HT_RING_REG(1, HT_RING_CONTROL)) {
            qpci_io_writel(t.dev, t.ctrl, off, v);
        } else {
            qpci_io_writel(t.dev, t.ctrl, off, v & 3);
        }
        if (i % 1000 == 0) {
            qtest_clock_step(t.qts, 10 * 1000 * 1000);
        }
    }
    /*
     * Reset both rings: they work again, from where ring 1's reset left
     * it, once the reservations left uncommitted before it time out.
     */
    doorbell(&t, 0, HT_RING_CTL_RESET);
    doorbell(&t, 1, HT_RING_CTL_RESET);
    g_assert_cmphex(qpci_io_readl(t.dev, t.ctrl, HT_REG_MAGIC), ==, HT_MAGIC);
    start = qtest_readq(t.qts, ring_addr(&t, 1) +
                        offsetof(struct ht_ring_header, reserve));
    g_assert_cmpuint(ring_reg(&t, 1, HT_RING_STATUS), ==, 0);
    publish(&t, 1, start, start + 10, 77);
    doorbell(&t, 1, HT_RING_CTL_DOORBELL);
    while (ring_reg(&t, 1, HT_RING_PUBLISHED) != start + 10 ||
           qtest_readq(t.qts, ring_addr(&t, 1) +
                       offsetof(struct ht_ring_header, consumer)) !=
           start + 10) {
        qtest_clock_step(t.qts, HT_COMMIT_TIMEOUT_NS);
        doorbell(&t, 1, HT_RING_CTL_DOORBELL);
        g_usleep(1000);
    }
    log = ht_stop(&t);
    check_events(log, 1, start, start + 10, 77);
}

static void test_reset_keeps_records(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    /*
     * A guest's ring reset takes constant time and loses nothing: it
     * publishes the device's positions again, and the drain thread takes
     * the records between them later.
     */
    ht_start(&t, ",ring-size=64,drain-budget=8");
    publish(&t, 0, 0, 40, 12);
    set_header(&t, 0, offsetof(struct ht_ring_header, lost), 3);
    set_header(&t, 0, offsetof(struct ht_ring_header, order), 0);
    doorbell(&t, 0, HT_RING_CTL_RESET);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_PUBLISHED), ==, 40);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 0);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_LOST), ==, 3);
    g_assert_cmpuint(qtest_readq(t.qts, ring_addr(&t, 0) +
                     offsetof(struct ht_ring_header, reserve)), ==, 40);
    g_assert_cmpuint(qtest_readq(t.qts, ring_addr(&t, 0) +
                     offsetof(struct ht_ring_header, consumer)), ==, 0);
    g_assert_cmpuint(qtest_readq(t.qts, ring_addr(&t, 0) +
                     offsetof(struct ht_ring_header, lost)), ==, 0);
    g_assert_cmpuint(qtest_readl(t.qts, ring_addr(&t, 0) +
                     offsetof(struct ht_ring_header, order)), ==, 6);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 43);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 40);
    log = ht_stop(&t);
    check_events(log, 0, 0, 40, 12);
    g_assert_cmpint(count_lines(log, "hypertrace_event "), ==, 40);
    g_assert(strstr(log, "hypertrace_lost ring=0 count=3\n"));
}

/*
 * A guest's ring reset costs constant time: it writes the header, not the
 * ring's memory (a stale slot holds an older position's commit value,
 * which no later position matches), and positions go on.
 */
static void test_reset_leaves_slots(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    ht_start(&t, ",ring-size=16");
    publish(&t, 0, 0, 5, 21);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 5);
    doorbell(&t, 0, HT_RING_CTL_RESET);
    /* position 4's record is still in slot 4; positions go on at 5 */
    g_assert_cmpuint(qtest_readl(t.qts, record_addr(&t, 0, 4) +
                     offsetof(struct ht_record, commit)), ==, 5);
    g_assert_cmpuint(qtest_readq(t.qts, ring_addr(&t, 0) +
                     offsetof(struct ht_ring_header, reserve)), ==, 5);
    g_assert_cmpuint(qtest_readq(t.qts, ring_addr(&t, 0) +
                     offsetof(struct ht_ring_header, consumer)), ==, 5);
    /* 5..19 committed; 20, in slot 4 again, reserved but not committed */
    publish(&t, 0, 5, 20, 22);
    set_header(&t, 0, offsetof(struct ht_ring_header, reserve), 21);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 20);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 20);
    log = ht_stop(&t);
    /* the stale record in slot 4 was not taken for position 20 */
    check_events(log, 0, 0, 5, 21);
    check_events(log, 0, 5, 20, 22);
    g_assert_cmpint(count_lines(log, "hypertrace_event "), ==, 20);
    g_assert(strstr(log, "hypertrace_lost ring=0 count=1\n"));
}

/* Positions [0, 10) published, position 3 reserved but never committed */
static void publish_with_hole(HtTest *t)
{
    uint64_t pos;

    for (pos = 0; pos < 10; pos++) {
        if (pos != 3) {
            put_record(t, 0, pos, 13);
        }
    }
    set_header(t, 0, offsetof(struct ht_ring_header, reserve), 10);
}

static void test_uncommitted_times_out(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    /*
     * The timeout counts the time the producer could run: under qtest,
     * which runs no vCPU, the virtual clock, which only the test moves.
     * However long the host takes, nothing is lost before the step.
     */
    ht_start(&t, "");
    publish_with_hole(&t);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 3);
    g_usleep(2 * HT_COMMIT_TIMEOUT_NS / 1000);      /* host time only */
    qtest_clock_step(t.qts, HT_COMMIT_TIMEOUT_NS / 2);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    drain_barrier(&t);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 3); /* waits */
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_LOST), ==, 0);
    qtest_clock_step(t.qts, HT_COMMIT_TIMEOUT_NS);
    doorbell(&t, 0, HT_RING_CTL_DOORBELL);
    wait_consumed(&t, 0, 10);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 9);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_LOST), ==, 1);
    log = ht_stop(&t);
    check_events(log, 0, 0, 3, 13);
    check_events(log, 0, 4, 10, 13);
    g_assert(strstr(log, "hypertrace_lost ring=0 count=1\n"));
}

static void test_quit_skips_uncommitted(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    /* at exit no producer will commit: the hole is lost, nothing else */
    ht_start(&t, "");
    publish_with_hole(&t);
    log = ht_stop(&t);
    check_events(log, 0, 0, 3, 13);
    check_events(log, 0, 4, 10, 13);
    g_assert_cmpint(count_lines(log, "hypertrace_event "), ==, 9);
    g_assert(strstr(log, "hypertrace_lost ring=0 count=1\n"));
}

static void test_reset_keeps_position_order(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    /* one final drain, at the reset: the hole's loss in its place */
    ht_start(&t, "");
    publish_with_hole(&t);
    qtest_qmp_assert_success(t.qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(t.qts, "RESET");
    log = ht_stop(&t);
    check_events(log, 0, 0, 3, 13);
    check_events(log, 0, 4, 10, 13);
    g_assert_cmpint(count_lines_before(log, "hypertrace_event ",
                                       "hypertrace_lost ring=0 count=1\n"),
                    ==, 3);
    g_assert_cmpint(count_lines(log, "hypertrace_event "), ==, 9);
}

static void test_quit_drains(void)
{
    HtTest t = { 0 };
    g_autofree char *log = NULL;

    ht_start(&t, ",ring-size=1024");
    /* published, no doorbell, and the virtual clock never advances */
    publish(&t, 0, 0, 1000, 8);
    g_assert_cmpuint(ring_reg(&t, 0, HT_RING_CONSUMED), ==, 0);
    log = ht_stop(&t);
    check_events(log, 0, 0, 1000, 8);
    g_assert_cmpint(count_lines(log, "hypertrace_event "), ==, 1000);
}

static void test_bad_properties(void)
{
    static const struct {
        const char *props;
        const char *error;
    } cases[] = {
        { "ring-size=100", "ring-size=100 is not a power of two" },
        { "ring-size=8", "ring-size=8 is out of range" },
        { "rings=65", "rings=65 is out of range" },
        { "mode=fast", "mode=fast is not a ring mode" },
        { "drain-period-us=0", "drain-period-us=0 is out of range" },
        { "rings=64,ring-size=1048576", "more than 1024 MiB" },
        { "addr=5 -device hypertrace,addr=6",
          "another hypertrace device already takes hypercalls" },
        { "addr=5 -device hypertrace,addr=6,hypercalls=off",
          "another hypertrace device already has the probes and milestones" },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *cmd = g_strdup_printf(
            "exec %s -M pc -nodefaults -display none -device hypertrace,%s "
            "2>&1 | grep -q '%s'", g_getenv("QTEST_QEMU_BINARY"),
            cases[i].props, cases[i].error);
        g_assert_cmpint(system(cmd), ==, 0);
    }
}

/*
 * make bench: the cost of one synchronous event (one MMIO write that
 * emits it) over a plain RAM write driven the same way through qtest.
 */
static void bench_sync_emit(void)
{
    const int n = 20000;
    HtTest t = { 0 };
    gint64 t0, t1, t2;
    int i;

    ht_start(&t, "");
    t0 = g_get_monotonic_time();
    for (i = 0; i < n; i++) {
        qpci_io_writel(t.dev, t.ctrl, HT_CLIENT_REG(0, HT_CLIENT_EMIT), i);
    }
    t1 = g_get_monotonic_time();
    for (i = 0; i < n; i++) {
        qtest_writel(t.qts, 0x100000 + (i % 1024) * 4, i);
    }
    t2 = g_get_monotonic_time();
    g_free(ht_stop(&t));
    printf("bench: sync-emit %.0f ns, ram-write %.0f ns, difference %.0f ns "
           "per event (%d events)\n", (t1 - t0) * 1000.0 / n,
           (t2 - t1) * 1000.0 / n, ((t1 - t0) - (t2 - t1)) * 1000.0 / n, n);
}

static void qmp_reset(QTestState *qts)
{
    qtest_qmp_assert_success(qts, "{ 'execute': 'system_reset' }");
}

/* After a hostile input, a reset gives a device that works. */
static void check_recovered(HtFuzzDevice *d)
{
    HtFuzzAction record = { .kind = HT_ACT_RECORD };
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint64_t before, pos;

    qmp_reset(d->qts);
    ht_fuzz_remap(d);
    g_assert_cmphex(qpci_io_readl(d->pci, d->ctrl, HT_REG_MAGIC), ==,
                    HT_MAGIC);
    before = qpci_io_readq(d->pci, d->ctrl, HT_RING_REG(0, HT_RING_CONSUMED));
    /* the reset emptied ring 0 where its positions had reached */
    pos = qpci_io_readq(d->pci, d->data, 0);
    g_assert_cmpuint(qpci_io_readq(d->pci, d->data,
                     offsetof(struct ht_ring_header, consumer)), ==, pos);
    record.offset = pos;
    ht_fuzz_action(d, &record);
    qpci_io_writeq(d->pci, d->data, 0, pos + 1);    /* reserve */
    qpci_io_writel(d->pci, d->ctrl, HT_RING_REG(0, HT_RING_CONTROL),
                   HT_RING_CTL_DOORBELL);
    qtest_clock_step(d->qts, HT_FUZZ_MAX_STEP_NS);
    while (qpci_io_readq(d->pci, d->ctrl, HT_RING_REG(0, HT_RING_CONSUMED))
           != before + 1) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
}

static void replay_fuzz_input(const char *path)
{
    HtFuzzDevice d = { .reset = qmp_reset };
    g_autofree char *data = NULL;
    gsize size;

    g_assert(g_file_get_contents(path, &data, &size, NULL));
    ht_fuzz_device_init(&d, qtest_init(HT_FUZZ_ARGS));
    ht_fuzz_run(&d, (const uint8_t *)data, size);
    check_recovered(&d);
    g_free(d.pci);
    qpci_free_pc(d.bus);
    qtest_quit(d.qts);
}

/*
 * Every input in $HYPERTRACE_FUZZ_INPUTS (directories, ':'-separated): the
 * fuzz target's seeds and every crash it ever found, replayed as a qtest.
 */
static void test_fuzz_inputs(void)
{
    const char *dirs = g_getenv("HYPERTRACE_FUZZ_INPUTS");
    g_auto(GStrv) list = g_strsplit(dirs ? dirs : "", ":", -1);
    unsigned replayed = 0;
    int i;

    for (i = 0; list[i]; i++) {
        g_autoptr(GDir) dir = *list[i] ? g_dir_open(list[i], 0, NULL) : NULL;
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(list[i], name, NULL);

            if (name[0] != '.') {
                replay_fuzz_input(path);
                replayed++;
            }
        }
    }
    if (!replayed) {
        g_test_skip("no fuzz inputs: set HYPERTRACE_FUZZ_INPUTS");
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (g_test_perf()) {
        qtest_add_func("/hypertrace/bench/sync-emit", bench_sync_emit);
        return g_test_run();
    }
    qtest_add_func("/hypertrace/ids-and-bars", test_ids_and_bars);
    qtest_add_func("/hypertrace/geometry", test_geometry);
    qtest_add_func("/hypertrace/sync-emit", test_sync_emit);
    qtest_add_func("/hypertrace/ring-drain", test_ring_drain);
    qtest_add_func("/hypertrace/discard-full", test_discard_full);
    qtest_add_func("/hypertrace/overwrite", test_overwrite);
    qtest_add_func("/hypertrace/bad-indices", test_bad_indices);
    qtest_add_func("/hypertrace/bad-registers", test_bad_registers);
    qtest_add_func("/hypertrace/random-writes", test_random_writes);
    qtest_add_func("/hypertrace/reset-keeps-records",
                   test_reset_keeps_records);
    qtest_add_func("/hypertrace/uncommitted-times-out",
                   test_uncommitted_times_out);
    qtest_add_func("/hypertrace/quit-skips-uncommitted",
                   test_quit_skips_uncommitted);
    qtest_add_func("/hypertrace/reset-keeps-position-order",
                   test_reset_keeps_position_order);
    qtest_add_func("/hypertrace/quit-drains", test_quit_drains);
    qtest_add_func("/hypertrace/reset-leaves-slots", test_reset_leaves_slots);
    qtest_add_func("/hypertrace/bad-properties", test_bad_properties);
    qtest_add_func("/hypertrace/fuzz-inputs", test_fuzz_inputs);
    return g_test_run();
}
