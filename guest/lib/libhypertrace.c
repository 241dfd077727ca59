/*
 * libhypertrace: the device in Linux user space.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "libhypertrace.h"

#define PCI_DEVICES "/sys/bus/pci/devices"

/* Devices opened so far: each gets a generation of its own, never 0. */
static uint64_t generations;

struct ht_device {
    struct ht_device_head head; /* first: the inline emit reads it */
    char path[300];
    volatile void *ctrl;
    void *data;
    size_t ctrl_size, data_size;
    uint32_t nr_rings, nr_clients, stride;
    struct ht_ring *rings;
};

static void set_error(char **error, const char *fmt, ...)
{
    va_list ap;

    if (!error) {
        return;
    }
    va_start(ap, fmt);
    if (vasprintf(error, fmt, ap) < 0) {
        *error = NULL;
    }
    va_end(ap);
}

static unsigned long read_hex(const char *dir, const char *file)
{
    char path[400], buf[32] = "";
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "r");
    if (!f) {
        return 0;
    }
    if (!fgets(buf, sizeof(buf), f)) {
        buf[0] = 0;
    }
    fclose(f);
    return strtoul(buf, NULL, 16);
}

static int find_device(char *path, size_t len)
{
    DIR *d = opendir(PCI_DEVICES);
    struct dirent *e;
    int found = 0;

    if (!d) {
        return -errno;
    }
    while (!found && (e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, len, "%s/%s", PCI_DEVICES, e->d_name);
        found = read_hex(path, "vendor") == HT_PCI_VENDOR_ID &&
                read_hex(path, "device") == HT_PCI_DEVICE_ID;
    }
    closedir(d);
    return found ? 0 : -ENODEV;
}

/*
 * sysfs maps a BAR uncached (resourceN) or, for a prefetchable BAR such as
 * the data BAR, write-combining (resourceN_wc); never write-back, which
 * only the kernel module's memremap() gives.  Take write-combining where
 * @wc asks and the kernel offers it: uncached, every store to the ring is
 * a bus transaction and a locked add is a bus lock on real hardware.
 * Under KVM the guest's memory type still combines with the host's.
 */
static int open_bar(const char *dir, int bar, bool wc, char *path,
                    size_t len)
{
    int fd;

    if (wc) {
        snprintf(path, len, "%s/resource%d_wc", dir, bar);
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT) {
            return fd;
        }
    }
    snprintf(path, len, "%s/resource%d", dir, bar);
    return open(path, O_RDWR | O_SYNC | O_CLOEXEC);
}

static void *map_bar(const char *dir, int bar, bool wc, size_t *size,
                     char **error)
{
    char path[400];
    struct stat st;
    void *p;
    int fd;

    fd = open_bar(dir, bar, wc, path, sizeof(path));
    if (fd < 0) {
        set_error(error, "cannot open %s: %s%s", path, strerror(errno),
                  errno == EACCES || errno == EPERM ?
                  " (the PCI resource files are root's: run as root)" : "");
        return NULL;
    }
    if (fstat(fd, &st) < 0 || st.st_size == 0) {
        set_error(error, "%s has no size: is the BAR assigned?", path);
        close(fd);
        return NULL;
    }
    p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        set_error(error, "cannot map %s: %s", path, strerror(errno));
        return NULL;
    }
    *size = st.st_size;
    return p;
}

ht_device *ht_device_open(char **error)
{
    ht_device *dev = calloc(1, sizeof(*dev));
    uint32_t i;
    int ret;

    if (!dev) {
        set_error(error, "out of memory");
        return NULL;
    }
    ret = find_device(dev->path, sizeof(dev->path));
    if (ret == -ENODEV) {
        set_error(error, "no hypertrace device (PCI %04x:%04x) in "
                  PCI_DEVICES ": start QEMU with -device hypertrace",
                  HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID);
    } else if (ret) {
        set_error(error, "cannot read " PCI_DEVICES ": %s (is sysfs "
                  "mounted?)", strerror(-ret));
    }
    if (ret) {
        free(dev);
        return NULL;
    }
    dev->ctrl = map_bar(dev->path, HT_CTRL_BAR, false, &dev->ctrl_size,
                        error);
    if (dev->ctrl) {
        dev->data = map_bar(dev->path, HT_DATA_BAR, true, &dev->data_size,
                            error);
    }
    if (!dev->data) {
        ht_device_close(dev);
        return NULL;
    }
    if (ht_readl(dev->ctrl, HT_REG_MAGIC) != HT_MAGIC ||
        ht_readl(dev->ctrl, HT_REG_VERSION) != HT_ABI_VERSION) {
        set_error(error, "%s speaks ABI %u, this library %u: rebuild it "
                  "with the QEMU's include/hypertrace/abi.h", dev->path,
                  ht_readl(dev->ctrl, HT_REG_VERSION), HT_ABI_VERSION);
        ht_device_close(dev);
        return NULL;
    }
    dev->nr_rings = ht_readl(dev->ctrl, HT_REG_NR_RINGS);
    dev->nr_clients = ht_readl(dev->ctrl, HT_REG_NR_CLIENTS);
    dev->stride = ht_readl(dev->ctrl, HT_REG_RING_STRIDE);
    dev->rings = dev->nr_rings ? calloc(dev->nr_rings, sizeof(*dev->rings))
                               : NULL;
    if (!dev->rings || !dev->nr_clients) {
        set_error(error, dev->rings ? "%s has no client slots" :
                  dev->nr_rings ? "%s: out of memory for the rings" :
                  "%s has no rings", dev->path);
        ht_device_close(dev);
        return NULL;
    }
    for (i = 0; i < dev->nr_rings; i++) {
        ht_ring_init(&dev->rings[i], dev->data, dev->stride, i, dev->ctrl);
    }
    dev->head.generation = __atomic_add_fetch(&generations, 1,
                                              __ATOMIC_RELAXED);
    return dev;
}

void ht_device_close(ht_device *dev)
{
    if (!dev) {
        return;
    }
    if (dev->ctrl) {
        munmap((void *)dev->ctrl, dev->ctrl_size);
    }
    if (dev->data) {
        munmap(dev->data, dev->data_size);
    }
    free(dev->rings);
    free(dev);
}

static uint32_t current_cpu(uint32_t count)
{
    int cpu = sched_getcpu();

    return cpu < 0 ? 0 : (uint32_t)cpu % count;
}

struct ht_ring *ht_device_ring_here(ht_device *dev)
{
    return &dev->rings[current_cpu(dev->nr_rings)];
}

void ht_device_thread_ring(ht_device *dev, struct ht_thread_ring *tr)
{
    tr->ring = *ht_device_ring_here(dev);
    tr->generation = dev->head.generation;
}

void ht_device_emit_sync(ht_device *dev, uint32_t id, const uint64_t *args,
                         int nargs)
{
    ht_sync_emit_n(dev->ctrl, current_cpu(dev->nr_clients), id, args,
                   nargs);
}

struct ht_ring *ht_device_ring(ht_device *dev, uint32_t index)
{
    return index < dev->nr_rings ? &dev->rings[index] : NULL;
}

volatile void *ht_device_ctrl(const ht_device *dev)
{
    return dev->ctrl;
}

const char *ht_device_path(const ht_device *dev)
{
    return dev->path;
}
