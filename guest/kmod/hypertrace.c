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
 * Depth counts the probed calls pending in the calling task, and each
 * duration is its own call's: functions sleep, tasks migrate, and modules
 * load in parallel, so no per-CPU state would do.  Times come from the
 * NMI-safe monotonic clock.
 *
 * channel=hypercall (default) uses the CPU vendor's hypercall; channel=ring
 * binds the hypertrace PCI device (a pci_driver) and uses the ring of the
 * current CPU (record id = nr).
 *
 * Exact names are probed with kretprobes at load.  A glob is resolved by
 * an ftrace_ops filter: the first call of each matching function registers
 * a kretprobe for it from a work item, so that first call is not traced,
 * and entries and exits always come in pairs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/atomic.h>
#include <linux/ftrace.h>
#include <linux/hashtable.h>
#include <linux/io.h>
#include <linux/kprobes.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>

/* the control BAR through the kernel's MMIO accessors */
#define HT_IOMEM(p)		((void __iomem __force *)(uintptr_t)(p))
#define HT_MMIO_READ32(p)	ioread32(HT_IOMEM(p))
#define HT_MMIO_WRITE32(p, v)	iowrite32((v), HT_IOMEM(p))
#define HT_MMIO_WRITE64(p, v)	writeq((v), HT_IOMEM(p))
/* the ring through the kernel's atomics, not the compiler's builtins */
#define HT_ATOMIC_LOAD(p)		READ_ONCE(*(p))
/* pairs with the device's release of the consumer index */
#define HT_ATOMIC_LOAD_ACQUIRE(p)	smp_load_acquire(p)
#define HT_ATOMIC_STORE(p, v)		WRITE_ONCE(*(p), (v))
/* publishes a record's fields before its commit word */
#define HT_ATOMIC_STORE_RELEASE(p, v)	smp_store_release((p), (v))
/* orders a cleared commit word before the record's new fields */
#define HT_ATOMIC_FENCE_RELEASE()	smp_wmb()
#define HT_ATOMIC_FETCH_INC(p)		xadd((p), 1)
#define HT_ATOMIC_CMPXCHG(p, oldp, new)	try_cmpxchg((p), (oldp), (new))
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

static void __iomem *ht_ctrl;
static void *ht_data;
static struct ht_ring *ht_rings;
static u32 ht_nr_rings;
static bool use_ring;
static bool ht_ring_gone;	/* the device went away under us */

static void ht_emit(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
	u64 args[HT_NR_ARGS] = { a0, a1, a2, a3, a4 };

	if (!use_ring) {
		ht_hypercall(nr, a0, a1, a2, a3);
		return;
	}
	if (READ_ONCE(ht_ring_gone))
		return;
	/* reserve/commit is safe against preemption and interrupts */
	ht_ring_emit(&ht_rings[raw_smp_processor_id() % ht_nr_rings], nr, args);
}

static int ht_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	u32 i, stride;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ht_ctrl = pcim_iomap(pdev, HT_CTRL_BAR, 0);
	/* The data BAR is RAM on the host: map it cacheable, for atomics. */
	ht_data = devm_memremap(&pdev->dev, pci_resource_start(pdev, HT_DATA_BAR),
				pci_resource_len(pdev, HT_DATA_BAR), MEMREMAP_WB);
	if (!ht_ctrl || IS_ERR(ht_data) ||
	    ioread32(ht_ctrl + HT_REG_MAGIC) != HT_MAGIC ||
	    ioread32(ht_ctrl + HT_REG_VERSION) != HT_ABI_VERSION) {
		dev_err(&pdev->dev, "the device's BARs are not usable\n");
		return -EIO;
	}
	ht_nr_rings = ioread32(ht_ctrl + HT_REG_NR_RINGS);
	stride = ioread32(ht_ctrl + HT_REG_RING_STRIDE);
	if (!ht_nr_rings)
		return -EIO;
	ht_rings = devm_kcalloc(&pdev->dev, ht_nr_rings, sizeof(*ht_rings),
				GFP_KERNEL);
	if (!ht_rings)
		return -ENOMEM;
	/*
	 * The guest header keeps the doorbell as a volatile pointer (its one
	 * volatile, kernel checkpatch's one warning); HT_MMIO_* above make
	 * its accesses iowrite32/ioread32.
	 */
	for (i = 0; i < ht_nr_rings; i++)
		ht_ring_init(&ht_rings[i], ht_data, stride, i,
			     (volatile void __force *)ht_ctrl);
	return 0;
}

static void ht_pci_remove(struct pci_dev *pdev)
{
	/* handlers run with preemption off: after this, none uses a ring */
	WRITE_ONCE(ht_ring_gone, true);
	synchronize_rcu();
}

static const struct pci_device_id ht_pci_ids[] = {
	{ PCI_DEVICE(HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID) },
	{ }
};

/* No MODULE_DEVICE_TABLE: the module is loaded on purpose, not by udev. */
static struct pci_driver ht_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = ht_pci_ids,
	.probe = ht_pci_probe,
	.remove = ht_pci_remove,
};

static int ht_ring_open(void)
{
	int ret = pci_register_driver(&ht_pci_driver);

	if (ret)
		return ret;
	if (!ht_rings) {	/* probing is synchronous: no device, or it failed */
		pci_unregister_driver(&ht_pci_driver);
		pr_err("channel=ring needs the PCI device %04x:%04x (QEMU -device hypertrace)\n",
		       HT_PCI_VENDOR_ID, HT_PCI_DEVICE_ID);
		return -ENODEV;
	}
	return 0;
}

static void ht_ring_close(void)
{
	pci_unregister_driver(&ht_pci_driver);
}

/* ---- function entry and exit: kretprobes ---- */

/*
 * Per-task depth: the number of probed calls pending in each task, from a
 * fixed pool (no allocation in a probe handler).  A task beyond the pool,
 * or a call from NMI (the lock may be held under it), gets depth 0.
 */
#define HT_TASK_SLOTS 1024

struct ht_task_depth {
	struct hlist_node node;
	struct task_struct *task;
	u32 depth;
};

static struct ht_task_depth ht_task_pool[HT_TASK_SLOTS];
static HLIST_HEAD(ht_task_free);
static DEFINE_HASHTABLE(ht_tasks, 8);
static DEFINE_RAW_SPINLOCK(ht_tasks_lock);

static void ht_task_pool_init(void)
{
	int i;

	for (i = 0; i < HT_TASK_SLOTS; i++)
		hlist_add_head(&ht_task_pool[i].node, &ht_task_free);
}

static struct ht_task_depth *ht_task_find(void)
{
	struct ht_task_depth *t;

	hash_for_each_possible(ht_tasks, t, node, (unsigned long)current)
		if (t->task == current)
			return t;
	return NULL;
}

/* The depth of the call entered now, or 0 if it cannot be counted. */
static u32 ht_depth_enter(void)
{
	struct ht_task_depth *t;
	unsigned long flags;
	u32 depth = 0;

	if (in_nmi())
		return 0;
	raw_spin_lock_irqsave(&ht_tasks_lock, flags);
	t = ht_task_find();
	if (!t && !hlist_empty(&ht_task_free)) {
		t = hlist_entry(ht_task_free.first, struct ht_task_depth, node);
		hlist_del(&t->node);
		t->task = current;
		t->depth = 0;
		hash_add(ht_tasks, &t->node, (unsigned long)current);
	}
	if (t)
		depth = ++t->depth;
	raw_spin_unlock_irqrestore(&ht_tasks_lock, flags);
	if (!t)
		pr_warn_once("more than %d tasks in probed functions: depth 0\n",
			     HT_TASK_SLOTS);
	return depth;
}

static void ht_depth_leave(void)
{
	struct ht_task_depth *t;
	unsigned long flags;

	raw_spin_lock_irqsave(&ht_tasks_lock, flags);
	t = ht_task_find();
	if (t && !--t->depth) {
		hash_del(&t->node);
		hlist_add_head(&t->node, &ht_task_free);
	}
	raw_spin_unlock_irqrestore(&ht_tasks_lock, flags);
}

struct ht_call {
	u64 start_ns;
	u32 depth;
};

static int ht_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ht_call *call = (struct ht_call *)ri->data;
	struct kretprobe *rp = get_kretprobe(ri);

	call->depth = ht_depth_enter();
	call->start_ns = ktime_get_mono_fast_ns();
	ht_emit(HT_HC_KERNEL_FUNC, (unsigned long)rp->kp.addr, 0,
		raw_smp_processor_id(), call->depth, 0);
	return 0;
}

static int ht_exit(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ht_call *call = (struct ht_call *)ri->data;
	struct kretprobe *rp = get_kretprobe(ri);

	ht_emit(HT_HC_KERNEL_FUNC, (unsigned long)rp->kp.addr, 1,
		ktime_get_mono_fast_ns() - call->start_ns, call->depth, 0);
	if (call->depth)
		ht_depth_leave();
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

static struct ftrace_ops ht_ftrace_ops;

/*
 * Never called, and always in the filter: with every match discovered
 * and removed, an empty filter would mean every function.
 */
static noinline void ht_filter_anchor(void)
{
	barrier();
}

static void ht_discover_work(struct work_struct *work)
{
	int i, n = min(atomic_read(&ht_nr_pending), HT_SEEN_SLOTS);

	for (i = 0; i < n && !READ_ONCE(ht_stopping); i++) {
		unsigned long ip = xchg(&ht_pending[i], 0);

		if (!ip)
			continue;
		if (ht_probe_add(NULL, ip))
			pr_warn_once("cannot probe some functions (limit %d)\n",
				     HT_MAX_PROBES);
		/* discovered: the callback has nothing more to do there */
		ftrace_set_filter_ip(&ht_ftrace_ops, ip, 1, 0);
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
				pr_err("cannot probe %s: %d\n", name, ret);
				kfree(copy);
			}
		}
	}
	kfree(list);
	if (!ret && globs)
		ret = ftrace_set_filter_ip(&ht_ftrace_ops,
					   (unsigned long)ht_filter_anchor, 0, 0);
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

/* ---- sched_switch (a tracepoint) and initcalls (a kretprobe) ---- */

static void ht_sched_switch(void *data, bool preempt, struct task_struct *prev,
			    struct task_struct *next, unsigned int prev_state)
{
	ht_emit(HT_HC_SCHED_SWITCH, prev->pid, prev->tgid, next->pid,
		next->tgid, 0);
}

/* do_one_initcall, with each call's own start: modules load in parallel */
struct ht_initcall {
	u64 start_ns;
	unsigned long fn;
};

static int ht_initcall_start(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct ht_initcall *ic = (struct ht_initcall *)ri->data;

	ic->fn = regs_get_kernel_argument(regs, 0);
	ic->start_ns = ktime_get_mono_fast_ns();
	ht_emit(HT_HC_KERNEL_FUNC, ic->fn, 0, raw_smp_processor_id(), 0, 0);
	return 0;
}

static int ht_initcall_finish(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct ht_initcall *ic = (struct ht_initcall *)ri->data;

	ht_emit(HT_HC_KERNEL_FUNC, ic->fn, 1,
		ktime_get_mono_fast_ns() - ic->start_ns, 0,
		(u64)(s64)(int)regs_return_value(regs));
	return 0;
}

/* Ours is running already: its own return is never seen. */
static struct kretprobe ht_initcall_probe = {
	.kp.symbol_name = "do_one_initcall",
	.entry_handler = ht_initcall_start,
	.handler = ht_initcall_finish,
	.data_size = sizeof(struct ht_initcall),
	.maxactive = 64,
};
static bool ht_initcall_on;

struct ht_tracepoint {
	const char *name;
	void *probe;
	bool *enabled;
	struct tracepoint *tp;
};

static struct ht_tracepoint ht_tracepoints[] = {
	{ "sched_switch", ht_sched_switch, &sched },
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
			pr_err("no tracepoint %s in this kernel\n", t->name);
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

static void ht_stop(void)
{
	ht_funcs_stop();
	ht_tracepoints_stop();
	if (ht_initcall_on)
		unregister_kretprobe(&ht_initcall_probe);
	if (use_ring)
		ht_ring_close();
}

static int __init ht_init(void)
{
	int ret;

	if (!strcmp(channel, "ring")) {
		use_ring = true;
		ret = ht_ring_open();
		if (ret)
			return ret;
	} else if (strcmp(channel, "hypercall")) {
		pr_err("channel=%s: use hypercall or ring\n", channel);
		return -EINVAL;
	}
	ht_task_pool_init();
	ret = ht_tracepoints_start();
	if (!ret && initcalls) {
		ret = register_kretprobe(&ht_initcall_probe);
		ht_initcall_on = !ret;
	}
	if (!ret)
		ret = ht_funcs_start();
	if (ret) {
		ht_stop();
		return ret;
	}
	pr_info("tracing over %s: funcs=\"%s\" sched=%d initcalls=%d\n",
		channel, funcs, sched, initcalls);
	return 0;
}

static void __exit ht_cleanup(void)
{
	ht_stop();
	pr_info("stopped, %d functions probed\n",
		atomic_read(&ht_nr_probes));
}

module_init(ht_init);
module_exit(ht_cleanup);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Trace kernel functions, sched_switch and initcalls to the hypertrace host");
