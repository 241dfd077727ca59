// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hypertrace.ko: trace a Linux guest's kernel to the host.
 *
 * - kernel function entry and exit for the functions that the "funcs"
 *   parameter names (comma-separated names or globs), as nr 1000:
 *   entry (function, 0, cpu, depth), exit (function, 1, ns, depth);
 * - sched_switch as nr 1001 (prev pid, prev tgid, next pid, next tgid);
 * - initcalls of modules loaded after this one, as nr 1000 with depth 0:
 *   start (function, 0, cpu, 0), finish (function, 1, ns, 0); on the ring
 *   a4 carries the initcall's return value.
 *
 * channel=hypercall (default) uses vmcall; channel=ring uses the
 * hypertrace PCI device's ring of the current CPU (record id = nr).
 *
 * Exact names are probed with kretprobes at load.  A glob is resolved by
 * an ftrace_ops filter: the first call of each matching function registers
 * a kretprobe for it from a work item, so that first call is not traced,
 * and entries and exits always come in pairs.
 */
#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include "hypertrace.h"

static char *funcs = "";
module_param(funcs, charp, 0444);
MODULE_PARM_DESC(funcs, "kernel functions to trace: names or globs, comma-separated");
static char *channel = "hypercall";
module_param(channel, charp, 0444);
MODULE_PARM_DESC(channel, "hypercall (vmcall) or ring (the PCI device)");
static bool sched = true;
module_param(sched, bool, 0444);
MODULE_PARM_DESC(sched, "trace sched_switch");
static bool initcalls = true;
module_param(initcalls, bool, 0444);
MODULE_PARM_DESC(initcalls, "trace initcalls of modules loaded later");

#define HT_MAX_PROBES 1024

/* ---- channels ---- */

static struct pci_dev *ht_pdev;
static void __iomem *ht_ctrl;
static void *ht_data;
static struct ht_ring *ht_rings;
static u32 ht_nr_rings;
static bool use_ring;

static void ht_emit(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
	u64 args[HT_NR_ARGS] = { a0, a1, a2, a3, a4 };

	if (!use_ring) {
		ht_hypercall(nr, a0, a1, a2, a3);
		return;
	}
	/* reserve/commit is safe against preemption and interrupts */
	ht_ring_emit(&ht_rings[raw_smp_processor_id() % ht_nr_rings], nr, args);
}

static int ht_ring_open(void)
{
	u32 i, stride;

	ht_pdev = pci_get_device(HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID, NULL);
	if (!ht_pdev) {
		pr_err("hypertrace: channel=ring needs the PCI device %04x:%04x (QEMU -device hypertrace)\n",
		       HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID);
		return -ENODEV;
	}
	if (pci_enable_device_mem(ht_pdev))
		goto fail;
	ht_ctrl = pci_iomap(ht_pdev, HT_CTRL_BAR, 0);
	/* The data BAR is RAM on the host: map it cacheable, for atomics. */
	ht_data = memremap(pci_resource_start(ht_pdev, HT_DATA_BAR),
			   pci_resource_len(ht_pdev, HT_DATA_BAR), MEMREMAP_WB);
	if (!ht_ctrl || !ht_data || ioread32(ht_ctrl + HT_REG_MAGIC) != HT_MAGIC ||
	    ioread32(ht_ctrl + HT_REG_VERSION) != HT_ABI_VERSION) {
		pr_err("hypertrace: the device's BARs are not usable\n");
		goto fail;
	}
	ht_nr_rings = ioread32(ht_ctrl + HT_REG_NR_RINGS);
	stride = ioread32(ht_ctrl + HT_REG_RING_STRIDE);
	ht_rings = kcalloc(ht_nr_rings, sizeof(*ht_rings), GFP_KERNEL);
	if (!ht_rings || !ht_nr_rings)
		goto fail;
	for (i = 0; i < ht_nr_rings; i++)
		ht_ring_init(&ht_rings[i], ht_data, stride, i,
			     (volatile void __force *)ht_ctrl);
	return 0;
fail:
	return -EIO; /* ht_ring_close() undoes what was done */
}

static void ht_ring_close(void)
{
	kfree(ht_rings);
	if (ht_data)
		memunmap(ht_data);
	if (ht_ctrl)
		pci_iounmap(ht_pdev, ht_ctrl);
	if (ht_pdev)
		pci_dev_put(ht_pdev);
}

/* ---- function entry and exit: kretprobes ---- */

struct ht_call {
	u64 start_ns;
	u32 depth;
};

static DEFINE_PER_CPU(u32, ht_depth);

static int ht_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ht_call *call = (struct ht_call *)ri->data;
	struct kretprobe *rp = get_kretprobe(ri);

	call->depth = this_cpu_inc_return(ht_depth);
	call->start_ns = ktime_get_ns();
	ht_emit(HT_HC_KERNEL_FUNC, (unsigned long)rp->kp.addr, 0,
		raw_smp_processor_id(), call->depth, 0);
	return 0;
}

static int ht_exit(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ht_call *call = (struct ht_call *)ri->data;
	struct kretprobe *rp = get_kretprobe(ri);

	ht_emit(HT_HC_KERNEL_FUNC, (unsigned long)rp->kp.addr, 1,
		ktime_get_ns() - call->start_ns, call->depth, 0);
	this_cpu_dec(ht_depth);
	return 0;
}

static struct kretprobe *ht_probes[HT_MAX_PROBES];
static atomic_t ht_nr_probes = ATOMIC_INIT(0);
static DEFINE_MUTEX(ht_probe_lock);

static int ht_probe_add(const char *name, unsigned long addr)
{
	struct kretprobe *rp;
	int n, ret;

	mutex_lock(&ht_probe_lock);
	n = atomic_read(&ht_nr_probes);
	if (n == HT_MAX_PROBES) {
		mutex_unlock(&ht_probe_lock);
		return -ENOSPC;
	}
	rp = kzalloc(sizeof(*rp), GFP_KERNEL);
	if (!rp) {
		mutex_unlock(&ht_probe_lock);
		return -ENOMEM;
	}
	rp->kp.symbol_name = name;
	rp->kp.addr = (kprobe_opcode_t *)addr;
	rp->entry_handler = ht_entry;
	rp->handler = ht_exit;
	rp->data_size = sizeof(struct ht_call);
	rp->maxactive = 4 * num_possible_cpus() + 16;
	ret = register_kretprobe(rp);
	if (ret) {
		kfree(rp);
	} else {
		ht_probes[n] = rp;
		atomic_set(&ht_nr_probes, n + 1);
	}
	mutex_unlock(&ht_probe_lock);
	return ret;
}

/* ---- globs: discovery through an ftrace_ops filter ---- */

#define HT_SEEN_SLOTS 4096	/* power of two */
static unsigned long ht_seen[HT_SEEN_SLOTS];
static unsigned long ht_pending[HT_SEEN_SLOTS];
static atomic_t ht_nr_pending = ATOMIC_INIT(0);
static bool ht_stopping;

static void ht_discover_work(struct work_struct *work)
{
	int i, n = min(atomic_read(&ht_nr_pending), HT_SEEN_SLOTS);

	for (i = 0; i < n && !READ_ONCE(ht_stopping); i++) {
		unsigned long ip = xchg(&ht_pending[i], 0);

		if (ip && ht_probe_add(NULL, ip))
			pr_warn_once("hypertrace: cannot probe some functions (limit %d)\n",
				     HT_MAX_PROBES);
	}
}
static DECLARE_WORK(ht_discover, ht_discover_work);

/* true the first time @ip is seen */
static bool ht_first_sight(unsigned long ip)
{
	unsigned long slot = hash_long(ip, ilog2(HT_SEEN_SLOTS));
	int i;

	for (i = 0; i < HT_SEEN_SLOTS; i++, slot = (slot + 1) & (HT_SEEN_SLOTS - 1)) {
		unsigned long old = READ_ONCE(ht_seen[slot]);

		if (old == ip)
			return false;
		if (!old && cmpxchg(&ht_seen[slot], 0, ip) == 0)
			return true;
		if (READ_ONCE(ht_seen[slot]) == ip)
			return false;
	}
	return false; /* table full: no more functions */
}

static void notrace ht_ftrace(unsigned long ip, unsigned long parent_ip,
			      struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	int n;

	if (!ht_first_sight(ip))
		return;
	n = atomic_inc_return(&ht_nr_pending) - 1;
	if (n < HT_SEEN_SLOTS) {
		WRITE_ONCE(ht_pending[n], ip);
		schedule_work(&ht_discover);
	}
}

static struct ftrace_ops ht_ftrace_ops = {
	.func = ht_ftrace,
	.flags = FTRACE_OPS_FL_RECURSION,
};
static bool ht_ftrace_on;

static int ht_funcs_start(void)
{
	char *list = kstrdup(funcs, GFP_KERNEL), *cur = list, *name;
	bool globs = false;
	int ret = 0;

	if (!list)
		return -ENOMEM;
	while (!ret && (name = strsep(&cur, ",")) != NULL) {
		name = strim(name);
		if (!*name)
			continue;
		if (strpbrk(name, "*?[")) {
			ret = ftrace_set_filter(&ht_ftrace_ops, name, strlen(name), 0);
			globs = true;
		} else {
			/* kprobes keep the name: give each its own copy */
			char *copy = kstrdup(name, GFP_KERNEL);

			ret = copy ? ht_probe_add(copy, 0) : -ENOMEM;
			if (ret) {
				pr_err("hypertrace: cannot probe %s: %d\n", name, ret);
				kfree(copy);
			}
		}
	}
	kfree(list);
	if (!ret && globs) {
		ret = register_ftrace_function(&ht_ftrace_ops);
		ht_ftrace_on = !ret;
	}
	return ret;
}

static void ht_funcs_stop(void)
{
	int i, n;

	WRITE_ONCE(ht_stopping, true);
	if (ht_ftrace_on)
		unregister_ftrace_function(&ht_ftrace_ops);
	flush_work(&ht_discover);
	n = atomic_read(&ht_nr_probes);
	if (n)
		unregister_kretprobes(ht_probes, n);
	for (i = 0; i < n; i++) {
		kfree(ht_probes[i]->kp.symbol_name);
		kfree(ht_probes[i]);
	}
}

/* ---- tracepoints: sched_switch, initcall_start, initcall_finish ---- */

static void ht_sched_switch(void *data, bool preempt, struct task_struct *prev,
			    struct task_struct *next, unsigned int prev_state)
{
	ht_emit(HT_HC_SCHED_SWITCH, prev->pid, prev->tgid, next->pid,
		next->tgid, 0);
}

static DEFINE_PER_CPU(u64, ht_initcall_start_ns);

static void ht_initcall_start(void *data, initcall_t func)
{
	this_cpu_write(ht_initcall_start_ns, ktime_get_ns());
	ht_emit(HT_HC_KERNEL_FUNC, (unsigned long)func, 0,
		raw_smp_processor_id(), 0, 0);
}

static void ht_initcall_finish(void *data, initcall_t func, int ret)
{
	if (func == THIS_MODULE->init)
		return;	/* ours started before we could see it */
	ht_emit(HT_HC_KERNEL_FUNC, (unsigned long)func, 1,
		ktime_get_ns() - this_cpu_read(ht_initcall_start_ns), 0,
		(u64)(s64)ret);
}

struct ht_tracepoint {
	const char *name;
	void *probe;
	bool *enabled;
	struct tracepoint *tp;
};

static struct ht_tracepoint ht_tracepoints[] = {
	{ "sched_switch", ht_sched_switch, &sched },
	{ "initcall_start", ht_initcall_start, &initcalls },
	{ "initcall_finish", ht_initcall_finish, &initcalls },
};

static void ht_find_tracepoint(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ht_tracepoints); i++)
		if (!strcmp(tp->name, ht_tracepoints[i].name))
			ht_tracepoints[i].tp = tp;
}

static void ht_tracepoints_stop(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ht_tracepoints); i++) {
		struct ht_tracepoint *t = &ht_tracepoints[i];

		if (t->tp && *t->enabled)
			tracepoint_probe_unregister(t->tp, t->probe, NULL);
	}
	tracepoint_synchronize_unregister();
}

static int ht_tracepoints_start(void)
{
	int i, ret;

	for_each_kernel_tracepoint(ht_find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(ht_tracepoints); i++) {
		struct ht_tracepoint *t = &ht_tracepoints[i];

		if (!*t->enabled)
			continue;
		if (!t->tp) {
			pr_err("hypertrace: no tracepoint %s in this kernel\n", t->name);
			return -ENOENT;
		}
		ret = tracepoint_probe_register(t->tp, t->probe, NULL);
		if (ret) {
			t->tp = NULL;
			return ret;
		}
	}
	return 0;
}

static int __init ht_init(void)
{
	int ret;

	if (!strcmp(channel, "ring")) {
		use_ring = true;
		ret = ht_ring_open();
		if (ret) {
			ht_ring_close();
			return ret;
		}
	} else if (strcmp(channel, "hypercall")) {
		pr_err("hypertrace: channel=%s: use hypercall or ring\n", channel);
		return -EINVAL;
	}
	ret = ht_tracepoints_start();
	if (!ret)
		ret = ht_funcs_start();
	if (ret) {
		ht_funcs_stop();
		ht_tracepoints_stop();
		if (use_ring)
			ht_ring_close();
		return ret;
	}
	pr_info("hypertrace: tracing over %s: funcs=\"%s\" sched=%d initcalls=%d\n",
		channel, funcs, sched, initcalls);
	return 0;
}

static void __exit ht_cleanup(void)
{
	ht_funcs_stop();
	ht_tracepoints_stop();
	if (use_ring)
		ht_ring_close();
	pr_info("hypertrace: stopped, %d functions probed\n",
		atomic_read(&ht_nr_probes));
}

module_init(ht_init);
module_exit(ht_cleanup);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Trace kernel functions, sched_switch and initcalls to the hypertrace host");
