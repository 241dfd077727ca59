// SPDX-License-Identifier: GPL-2.0-or-later
/* ht_test_mod under another name, whose init sleeps longer (see there). */
#define HT_TEST_MOD_INIT ht_test_mod2_init
#define HT_TEST_MOD_EXIT ht_test_mod2_exit
#define HT_TEST_INIT_MS 300
#include "ht_test_mod.c"
