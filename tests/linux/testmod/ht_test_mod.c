// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Modules loaded after hypertrace.ko: their initcalls must show up in the
 * trace, each with its own duration, also when two load at once.  The
 * init functions are not __init so that /proc/kallsyms still names them
 * after loading, for the test to resolve their addresses.
 *
 * With sleepers=N, the init also runs two kernel threads bound to one
 * CPU that each call msleep(SLEEP_MS) N times: while one sleeps in it,
 * the other calls it on the same CPU.  Traced with funcs=msleep, every
 * call must have depth 1 and last at least SLEEP_MS.
 */
#include <linux/module.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>

#ifndef HT_TEST_MOD_INIT
#define HT_TEST_MOD_INIT ht_test_mod_init
#define HT_TEST_MOD_EXIT ht_test_mod_exit
#define HT_TEST_INIT_MS 5
#endif
#define SLEEP_MS 20

static int sleepers;
module_param(sleepers, int, 0444);
MODULE_PARM_DESC(sleepers, "msleep calls of each of two threads on CPU 0");

static DECLARE_COMPLETION(ht_sleepers_done);
static atomic_t ht_sleepers_left = ATOMIC_INIT(2);

static int ht_sleeper(void *unused)
{
	int i;

	for (i = 0; i < sleepers; i++)
		msleep(SLEEP_MS);
	if (atomic_dec_and_test(&ht_sleepers_left))
		complete(&ht_sleepers_done);
	return 0;
}

static void ht_run_sleepers(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct task_struct *t = kthread_create(ht_sleeper, NULL,
						       "ht_sleeper/%d", i);

		if (IS_ERR(t)) {
			complete(&ht_sleepers_done);
			return;
		}
		kthread_bind(t, 0);
		wake_up_process(t);
	}
	wait_for_completion(&ht_sleepers_done);
}

static int HT_TEST_MOD_INIT(void)
{
	msleep(HT_TEST_INIT_MS);
	if (sleepers > 0)
		ht_run_sleepers();
	return 0;
}

static void HT_TEST_MOD_EXIT(void)
{
}

/* module_init() names its argument as it is: expand it first */
#define HT_MODULE_INIT(fn) module_init(fn)
#define HT_MODULE_EXIT(fn) module_exit(fn)
HT_MODULE_INIT(HT_TEST_MOD_INIT);
HT_MODULE_EXIT(HT_TEST_MOD_EXIT);
MODULE_LICENSE("GPL");
