// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A module loaded after hypertrace.ko: its initcall must show up in the
 * trace.  The init function is not __init so that /proc/kallsyms still
 * names it after loading, for the test to resolve its address.
 */
#include <linux/module.h>
#include <linux/delay.h>

static int ht_test_mod_init(void)
{
	msleep(5);
	return 0;
}

static void ht_test_mod_exit(void)
{
}

module_init(ht_test_mod_init);
module_exit(ht_test_mod_exit);
MODULE_LICENSE("GPL");
