/*
 * hypertrace host-side probes on guest code
 *
 * Entry probes come from a symbol file (names, globs) or raw addresses.
 * A probed call's return is caught at its return site: the entry reads
 * the return address at the stack pointer, and the first execution of
 * that site with the stack pointer one slot higher is the return.  New
 * return sites need their code retranslated (TCG: one tb_flush per site,
 * as QEMU does for breakpoints) or a hardware breakpoint (KVM).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "qemu/lockable.h"
#include "qemu/rcu.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "exec/exec-all.h"
#include "exec/tb-flush.h"
#include "exec/memory.h"
#include "hw/core/cpu.h"
#include "hw/nvram/fw_cfg.h"
#include "system/cpus.h"
#include "system/hw_accel.h"
#include "system/kvm.h"
#include "hw/hypertrace/probe.h"
#include "qapi/qapi-types-hypertrace.h"
#include "symbols.h"
#include "trace.h"

/* Linux x86-64: the kernel's link-time mapping and KASLR's reach. */
#define KERNEL_MAP_START    HYPERTRACE_KERNEL_MAP_START
#define KASLR_ALIGN         (2 * MiB)
#define KASLR_RANGE         (1 * GiB)
#define LINUX_BANNER        "Linux version "
#define LINUX_SETUP_ENTRY   0x200   /* where the boot ROM enters setup */
#define RESET_VECTOR        0xfffffff0ULL
#define MAX_PENDING_RETURNS 65536
#define MAX_RETURN_SITES    4096    /* each costs a tb_flush: bound them */
#define KVM_HW_BREAKPOINTS  4
#define MAX_REMOVED         4096    /* forgotten all at once beyond this */

typedef enum {
    KERNEL_NONE,            /* no probe on kernel symbols */
    KERNEL_UNCHECKED,       /* not yet seen running: probes are off */
    KERNEL_OK,
    KERNEL_REFUSED,         /* the symbols do not match the kernel */
} KernelCheck;

typedef struct EntryProbe {
    uint64_t addr;          /* where it fires: link_addr + KASLR offset */
    uint64_t link_addr;
    char *name;
    bool kernel;
} EntryProbe;

typedef struct Milestone {
    uint64_t addr;
    const char *name;
    bool fired;             /* since the last reset */
    bool armed;             /* KVM: holds a use of a breakpoint */
} Milestone;

typedef struct PendingKey {
    uint64_t site;          /* the return address */
    uint64_t sp;            /* the stack pointer right after the return */
} PendingKey;

bool hypertrace_probes_enabled;

/*
 * Lives as long as QEMU: translated code may still call the probe helper
 * after the probes stop, and must find them stopped, not a freed lock.
 * Never held across a read of guest memory: a read may take the BQL,
 * which the main loop holds when it asks for the probes' state.
 */
static QemuMutex ht_probes_lock;

static void __attribute__((constructor)) ht_probes_lock_init(void)
{
    qemu_mutex_init(&ht_probes_lock);
}

static struct {
    char *symbols_path;
    GPtrArray *probes;      /* EntryProbe *, owned */
    GHashTable *by_link;    /* &link_addr of every probe */
    GHashTable *entries;    /* &addr -> EntryProbe *, probes now armed */
    GHashTable *returns;    /* return sites seen, uint64_t * */
    GHashTable *pending;    /* PendingKey * -> EntryProbe * */
    Milestone milestones[3];
    unsigned nr_milestones;
    KernelCheck kernel;
    uint64_t banner;        /* linux_banner's link address */
    int64_t kaslr;
    uint64_t untracked;     /* returns that could not be followed */
    GHashTable *armed;      /* KVM: &addr -> guint * users of its breakpoint */
    GHashTable *removed;    /* KVM: addresses whose breakpoint we removed */
    bool kvm_dirty;         /* breakpoints changed since ht_kvm_sync() */
} ht_probes;

static guint pending_hash(gconstpointer p)
{
    const PendingKey *k = p;

    return g_int64_hash(&k->site) ^ g_int64_hash(&k->sp);
}

static gboolean pending_equal(gconstpointer a, gconstpointer b)
{
    const PendingKey *x = a, *y = b;

    return x->site == y->site && x->sp == y->sp;
}

static void entry_probe_free(gpointer p)
{
    EntryProbe *probe = p;

    g_free(probe->name);
    g_free(probe);
}

static void ht_tb_flush_work(CPUState *cpu, run_on_cpu_data data)
{
    tb_flush(cpu);
}

/*
 * TCG: throw away translated code before @cpu runs any more of it.  Our
 * callers run during translation or in a helper, so always defer the
 * flush to a safe point: a flush now would free the code being built or
 * run, and deadlock on the page locks that translation holds.
 */
static void ht_retranslate(CPUState *cpu)
{
    async_safe_run_on_cpu(cpu, ht_tb_flush_work, RUN_ON_CPU_NULL);
}

/*
 * TCG: retranslate so that @addr calls the helper; KVM: a breakpoint,
 * which reaches the vCPUs at ht_kvm_sync(), after the lock is dropped:
 * updating another vCPU waits for it, and it may wait for our lock.
 */
static bool ht_arm(CPUState *cpu, uint64_t addr)
{
    guint *users;

    if (!kvm_enabled()) {
        if (cpu) {
            ht_retranslate(cpu);
        }
        return true;
    }
    /* probes, return sites and milestones may share an address */
    users = g_hash_table_lookup(ht_probes.armed, &addr);
    if (users) {
        (*users)++;
        return true;
    }
    if (!hypertrace_kvm_breakpoint_insert(addr)) {
        return false;
    }
    g_hash_table_remove(ht_probes.removed, &addr);
    users = g_new(guint, 1);
    *users = 1;
    g_hash_table_insert(ht_probes.armed, g_memdup2(&addr, sizeof(addr)),
                        users);
    ht_probes.kvm_dirty = true;
    return true;
}

/* KVM: one user less of the breakpoint at @addr, gone with the last. */
static void ht_disarm(uint64_t addr)
{
    guint *users;

    if (!kvm_enabled()) {
        return;
    }
    users = g_hash_table_lookup(ht_probes.armed, &addr);
    if (!users || --*users) {
        return;
    }
    g_hash_table_remove(ht_probes.armed, &addr);
    if (hypertrace_kvm_breakpoint_remove(addr)) {
        ht_probes.kvm_dirty = true;
        if (g_hash_table_size(ht_probes.removed) >= MAX_REMOVED) {
            g_hash_table_remove_all(ht_probes.removed);
        }
        g_hash_table_add(ht_probes.removed, g_memdup2(&addr, sizeof(addr)));
    }
}

/*
 * KVM: whether @pc held a breakpoint of ours that is gone: a vCPU that
 * has not taken the update yet can still hit it, and must just run on.
 */
bool hypertrace_probe_removed(uint64_t pc)
{
    QEMU_LOCK_GUARD(&ht_probes_lock);
    return ht_probes.removed && g_hash_table_contains(ht_probes.removed, &pc);
}

/* KVM: hand changed breakpoints to every vCPU.  Call without the lock. */
static void ht_kvm_sync(void)
{
    if (kvm_enabled() && qatomic_xchg(&ht_probes.kvm_dirty, false)) {
        hypertrace_kvm_breakpoints_update();
    }
}

/* One probe per address: the first name given for it wins. */
static void ht_add_probe(const char *name, uint64_t addr)
{
    EntryProbe *probe;

    if (g_hash_table_contains(ht_probes.by_link, &addr)) {
        return;
    }
    probe = g_new0(EntryProbe, 1);
    probe->name = g_strdup(name);
    probe->addr = probe->link_addr = addr;
    probe->kernel = addr >= KERNEL_MAP_START;
    g_ptr_array_add(ht_probes.probes, probe);
    g_hash_table_add(ht_probes.by_link, &probe->link_addr);
}

static bool ht_add_named(const HtSymbols *syms, const char *name,
                         Error **errp)
{
    g_autoptr(GPtrArray) matches = NULL;
    const HtSymbol *sym;
    guint i;

    if (!syms) {
        error_setg(errp, "hypertrace: probes=%s names a symbol, but no "
                   "symbols= file is given", name);
        error_append_hint(errp, "Add symbols=FILE (a System.map or an ELF "
                          "file), or probe a 0x address.\n");
        return false;
    }
    if (!strpbrk(name, "*?")) {
        sym = ht_symbols_find(syms, name);
        if (!sym) {
            error_setg(errp, "hypertrace: probes=%s: no such symbol in "
                       "symbols=%s", name, ht_probes.symbols_path);
            return false;
        }
        ht_add_probe(sym->name, sym->addr);
        return true;
    }
    matches = ht_symbols_match(syms, name);
    if (!matches->len) {
        error_setg(errp, "hypertrace: probes=%s matches no function in "
                   "symbols=%s", name, ht_probes.symbols_path);
        return false;
    }
    for (i = 0; i < matches->len; i++) {
        sym = g_ptr_array_index(matches, i);
        ht_add_probe(sym->name, sym->addr);
    }
    return true;
}

static bool ht_add_token(const HtSymbols *syms, const char *token,
                         Error **errp)
{
    guint64 addr;

    if (g_str_has_prefix(token, "0x")) {
        if (!g_ascii_string_to_unsigned(token + 2, 16, 0, UINT64_MAX, &addr,
                                        NULL)) {
            error_setg(errp, "hypertrace: probes=%s is not a hexadecimal "
                       "address", token);
            return false;
        }
        ht_add_probe(token, addr);
        return true;
    }
    return ht_add_named(syms, token, errp);
}

static bool ht_parse_probes(const HtSymbols *syms, const char *list,
                            Error **errp)
{
    g_auto(GStrv) tokens = g_strsplit_set(list ? list : "", ":,", -1);
    guint i;

    for (i = 0; tokens[i]; i++) {
        char *token = g_strstrip(tokens[i]);

        if (*token && !ht_add_token(syms, token, errp)) {
            return false;
        }
    }
    return true;
}

/* Kernel probes need linux_banner to check where the kernel runs. */
static bool ht_find_banner(const HtSymbols *syms, Error **errp)
{
    const HtSymbol *banner = syms ? ht_symbols_find(syms, "linux_banner")
                                  : NULL;
    guint i;

    for (i = 0; i < ht_probes.probes->len; i++) {
        EntryProbe *probe = g_ptr_array_index(ht_probes.probes, i);

        if (probe->kernel && !banner) {
            error_setg(errp, "hypertrace: probes=%s is a kernel address, and "
                       "symbols= has no linux_banner to tell where KASLR "
                       "put the kernel", probe->name);
            error_append_hint(errp, "Give a System.map or a full "
                              "/proc/kallsyms listing, with data "
                              "symbols.\n");
            return false;
        }
        if (probe->kernel) {
            ht_probes.kernel = KERNEL_UNCHECKED;
            ht_probes.banner = banner->addr;
        }
    }
    return true;
}

static void ht_arm_entries(CPUState *cpu, bool kernel)
{
    guint i;

    for (i = 0; i < ht_probes.probes->len; i++) {
        EntryProbe *probe = g_ptr_array_index(ht_probes.probes, i);

        if (probe->kernel != kernel) {
            continue;
        }
        probe->addr = probe->link_addr + (kernel ? ht_probes.kaslr : 0);
        g_hash_table_insert(ht_probes.entries, &probe->addr, probe);
        if (kvm_enabled() && !ht_arm(cpu, probe->addr)) {
            warn_report("hypertrace: KVM gives %d hardware breakpoints; "
                        "probe %s is not set", KVM_HW_BREAKPOINTS,
                        probe->name);
        }
    }
}

static void ht_disarm_kernel_entries(void)
{
    guint i;

    for (i = 0; i < ht_probes.probes->len; i++) {
        EntryProbe *probe = g_ptr_array_index(ht_probes.probes, i);

        if (probe->kernel &&
            g_hash_table_remove(ht_probes.entries, &probe->addr)) {
            ht_disarm(probe->addr);
        }
    }
}

bool hypertrace_copy_guest_ram(CPUState *cpu, MemTxAttrs attrs, hwaddr addr,
                               void *out, hwaddr len)
{
    AddressSpace *as = cpu_get_address_space(cpu,
                                             cpu_asidx_from_attrs(cpu, attrs));
    MemoryRegion *mr;
    hwaddr xlat, plen = len;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(as, addr, &xlat, &plen, false, attrs);
    if (plen < len || !memory_region_is_ram(mr) ||
        memory_region_is_ram_device(mr)) {
        return false;
    }
    memcpy(out, (uint8_t *)memory_region_get_ram_ptr(mr) + xlat, len);
    return true;
}

bool hypertrace_read_guest_ram(CPUState *cpu, vaddr addr, void *buf,
                               size_t len)
{
    uint8_t *out = buf;

    while (len) {
        vaddr page = addr & TARGET_PAGE_MASK;
        size_t n = MIN(len, page + TARGET_PAGE_SIZE - addr);
        MemTxAttrs attrs;
        hwaddr phys;

        if (!hypertrace_guest_phys(cpu, addr, &phys, &attrs) ||
            !hypertrace_copy_guest_ram(cpu, attrs, phys, out, n)) {
            return false;
        }
        addr += n;
        out += n;
        len -= n;
    }
    return true;
}

static bool ht_banner_at(CPUState *cpu, int64_t offset)
{
    char buf[sizeof(LINUX_BANNER) - 1];

    return hypertrace_read_guest_ram(cpu, ht_probes.banner + offset, buf,
                                     sizeof(buf)) &&
           !memcmp(buf, LINUX_BANNER, sizeof(buf));
}

/* Where does the kernel run?  Offset 0 first, then KASLR's 2 MiB steps. */
static bool ht_find_kaslr(CPUState *cpu, int64_t *offset)
{
    int64_t step;

    for (step = 0; step < KASLR_RANGE; step += KASLR_ALIGN) {
        if (ht_banner_at(cpu, step)) {
            *offset = step;
            return true;
        }
        if (step && ht_banner_at(cpu, -step)) {
            *offset = -step;
            return true;
        }
    }
    return false;
}

/* Where the kernel was found, by a search that read guest memory. */
typedef struct KernelFound {
    bool searched;
    bool found;
    int64_t offset;
} KernelFound;

/*
 * Search for the kernel if this is its first instruction of a boot.  It
 * reads guest memory, so never with the lock held: see the lock.
 */
static KernelFound ht_search_kernel(CPUState *cpu, uint64_t pc)
{
    KernelFound k = { 0 };

    if (qatomic_read(&ht_probes.kernel) == KERNEL_UNCHECKED &&
        pc >= KERNEL_MAP_START) {
        k.searched = true;
        k.found = ht_find_kaslr(cpu, &k.offset);
    }
    return k;
}

/* The kernel runs: arm its probes where it really is, or refuse them. */
static void ht_check_kernel(CPUState *cpu, const KernelFound *k)
{
    int64_t offset = k->offset;

    ht_disarm_kernel_entries();
    if (!k->found) {
        ht_probes.kernel = KERNEL_REFUSED;
        error_report("hypertrace: symbols=%s do not match the running "
                     "kernel: linux_banner is not at 0x%" PRIx64 " nor at "
                     "any KASLR offset, so no kernel function is probed",
                     ht_probes.symbols_path, ht_probes.banner);
        error_printf("Give the System.map of this kernel, or boot it with "
                     "nokaslr.\n");
        return;
    }
    if (offset != ht_probes.kaslr) {
        info_report("hypertrace: the kernel runs at %+" PRId64 " MiB from "
                    "symbols=%s (KASLR); probes follow it", offset / MiB,
                    ht_probes.symbols_path);
        ht_probes.kaslr = offset;
        if (!kvm_enabled()) {
            ht_retranslate(cpu); /* code of an earlier boot, other offset */
        }
    }
    ht_probes.kernel = KERNEL_OK;
    ht_arm_entries(cpu, true);
}

/*
 * TCG checks the kernel at its first translated instruction; KVM cannot,
 * so it arms the kernel probes where the last boot had them and checks
 * at the first hit.
 */
static void ht_probes_rearm_kernel(void)
{
    if (ht_probes.kernel == KERNEL_NONE) {
        return;
    }
    ht_disarm_kernel_entries();
    ht_probes.kernel = KERNEL_UNCHECKED;
    if (kvm_enabled()) {
        ht_arm_entries(NULL, true);     /* right if the kernel stays put */
        hypertrace_kernel_watch_start();
    }
}

/*
 * Check the kernel at its first instruction of a boot: TCG when it is
 * translated, KVM at a breakpoint hit (it has no translation to check at).
 * Returns whether it checked.
 */
static bool ht_check_kernel_at(CPUState *cpu, uint64_t pc,
                               const KernelFound *k)
{
    if (ht_probes.kernel != KERNEL_UNCHECKED || pc < KERNEL_MAP_START ||
        !k->searched) {
        return false;
    }
    ht_check_kernel(cpu, k);
    return true;
}

bool hypertrace_probe_kernel_unchecked(void)
{
    return qatomic_read(&ht_probes.kernel) == KERNEL_UNCHECKED;
}

void hypertrace_probe_seen(CPUState *cpu, uint64_t pc)
{
    KernelFound k;

    cpu_synchronize_state(cpu); /* the search walks its page tables */
    k = ht_search_kernel(cpu, pc);
    if (!k.searched) {
        return;
    }
    WITH_QEMU_LOCK_GUARD(&ht_probes_lock) {
        if (ht_probes.probes) {
            ht_check_kernel_at(cpu, pc, &k);
        }
    }
    ht_kvm_sync();
}

static Milestone *ht_milestone_at(uint64_t pc)
{
    unsigned i;

    for (i = 0; i < ht_probes.nr_milestones; i++) {
        if (ht_probes.milestones[i].addr == pc) {
            return &ht_probes.milestones[i];
        }
    }
    return NULL;
}

static bool ht_probed(uint64_t pc)
{
    return g_hash_table_contains(ht_probes.entries, &pc) ||
           g_hash_table_contains(ht_probes.returns, &pc) ||
           ht_milestone_at(pc);
}

static bool ht_lookup_locked(CPUState *cpu, uint64_t pc,
                             const KernelFound *k)
{
    bool probed;

    QEMU_LOCK_GUARD(&ht_probes_lock);
    if (!ht_probes.probes) {
        return false;           /* stopped */
    }
    probed = ht_probed(pc);     /* KVM: armed, even if the check moves it */
    if (ht_check_kernel_at(cpu, pc, k)) {
        probed = probed || ht_probed(pc);   /* TCG: armed just now */
    }
    return probed;
}

bool hypertrace_probe_lookup(CPUState *cpu, uint64_t pc)
{
    KernelFound k = ht_search_kernel(cpu, pc);
    bool probed = ht_lookup_locked(cpu, pc, &k);

    ht_kvm_sync();
    return probed;
}

static gboolean pending_at_site(gpointer key, gpointer value, gpointer site)
{
    return ((PendingKey *)key)->site == *(uint64_t *)site;
}

static void ht_hit_return(const HypertraceProbeHit *hit)
{
    PendingKey key = { hit->pc, hit->sp };
    EntryProbe *probe = g_hash_table_lookup(ht_probes.pending, &key);

    if (!probe) {
        return;
    }
    trace_hypertrace_probe(hit->cpu->cpu_index, 1, probe->addr, hit->retval,
                           hit->pc, 0, 0, 0, 0, probe->name);
    g_hash_table_remove(ht_probes.pending, &key);
    if (kvm_enabled() && !g_hash_table_find(ht_probes.pending,
                                            pending_at_site, &key.site)) {
        ht_disarm(key.site);    /* breakpoints are few: give it back */
        g_hash_table_remove(ht_probes.returns, &key.site);
    }
}

static bool ht_arm_milestone(Milestone *m)
{
    m->armed = m->armed || ht_arm(NULL, m->addr);
    return m->armed;
}

static void ht_disarm_milestone(Milestone *m)
{
    if (m->armed) {
        ht_disarm(m->addr);
        m->armed = false;
    }
}

static void ht_hit_milestones(const HypertraceProbeHit *hit)
{
    unsigned i;

    for (i = 0; i < ht_probes.nr_milestones; i++) {
        Milestone *m = &ht_probes.milestones[i];

        if (m->addr == hit->pc && !m->fired) {
            m->fired = true;
            trace_hypertrace_milestone(hit->cpu->cpu_index, hit->pc, m->name);
            ht_disarm_milestone(m); /* once a boot: give the slot back */
        }
    }
}

static void ht_untracked(const char *why, const EntryProbe *probe)
{
    if (!ht_probes.untracked++) {
        warn_report("hypertrace: the return of %s is not traced: %s; "
                    "later cases are only counted", probe->name, why);
    }
}

/*
 * The word at the top of the stack, read before the lock: at an entry
 * probe it is the return address.  Only from RAM: false for a stack in
 * MMIO or unmapped.
 */
static bool ht_read_stack_top(const HypertraceProbeHit *hit, uint64_t *top)
{
    uint8_t word[8];

    if (!hypertrace_read_guest_ram(hit->cpu, hit->sp, word, hit->slot)) {
        return false;
    }
    *top = hit->slot == 8 ? ldq_le_p(word) : ldl_le_p(word);
    return true;
}

/* Follow the return of this call: the site is the word at the stack. */
static void ht_follow_return(const HypertraceProbeHit *hit, EntryProbe *probe,
                             const uint64_t *site)
{
    PendingKey *key;

    if (!site) {
        ht_untracked("its stack is not in guest RAM", probe);
        return;
    }
    if (g_hash_table_size(ht_probes.pending) >= MAX_PENDING_RETURNS) {
        ht_untracked("too many calls have not returned", probe);
        return;
    }
    key = g_new(PendingKey, 1);
    key->site = *site;
    key->sp = hit->sp + hit->slot;
    /* a stale frame with the same key is dead: this call took its slot */
    g_hash_table_replace(ht_probes.pending, key, probe);
    if (!g_hash_table_contains(ht_probes.returns, &key->site)) {
        if (g_hash_table_size(ht_probes.returns) >= MAX_RETURN_SITES) {
            g_hash_table_remove(ht_probes.pending, key);
            ht_untracked("too many return sites", probe);
            return;
        }
        if (!ht_arm(hit->cpu, key->site)) {
            g_hash_table_remove(ht_probes.pending, key);
            ht_untracked("no hardware breakpoint is left", probe);
            return;
        }
        g_hash_table_add(ht_probes.returns, g_memdup2(&key->site,
                                                      sizeof(key->site)));
    }
}

static void ht_hit_entry(const HypertraceProbeHit *hit, const uint64_t *site)
{
    EntryProbe *probe = g_hash_table_lookup(ht_probes.entries, &hit->pc);

    if (!probe) {
        return;
    }
    trace_hypertrace_probe(hit->cpu->cpu_index, 0, probe->addr,
                           hit->args[0], hit->args[1], hit->args[2],
                           hit->args[3], hit->args[4], hit->args[5],
                           probe->name);
    ht_follow_return(hit, probe, site);
}

void hypertrace_probe_hit(const HypertraceProbeHit *hit)
{
    KernelFound k = ht_search_kernel(hit->cpu, hit->pc);
    uint64_t top;
    bool top_ok = ht_read_stack_top(hit, &top);

    WITH_QEMU_LOCK_GUARD(&ht_probes_lock) {
        if (!ht_probes.probes) {
            break;      /* stopped: code translated before still calls */
        }
        ht_check_kernel_at(hit->cpu, hit->pc, &k);
        ht_hit_return(hit);
        ht_hit_milestones(hit);
        ht_hit_entry(hit, top_ok ? &top : NULL);
    }
    ht_kvm_sync();
}

static uint32_t ht_fw_cfg_u32(FWCfgState *fw_cfg, uint16_t key)
{
    size_t len;
    const void *data = fw_cfg_get_bytes(fw_cfg, key, &len);

    return data && len == 4 ? ldl_le_p(data) : 0;
}

static void ht_add_milestone(uint64_t addr, const char *name)
{
    Milestone *m = &ht_probes.milestones[ht_probes.nr_milestones++];

    m->addr = addr;
    m->name = name;
}

/*
 * The reset vector, and the entry points that QEMU's loader gave the
 * firmware for -kernel: the Linux boot ROM jumps to the setup code,
 * which later enters the protected-mode kernel; multiboot and PVH
 * images are entered directly.
 */
static void ht_add_milestones(void)
{
    FWCfgState *fw_cfg = fw_cfg_find();
    uint32_t entry, setup;

    ht_add_milestone(RESET_VECTOR, "reset");
    if (!fw_cfg) {
        return;
    }
    entry = ht_fw_cfg_u32(fw_cfg, FW_CFG_KERNEL_ENTRY);
    setup = ht_fw_cfg_u32(fw_cfg, FW_CFG_SETUP_ADDR);
    if (entry) {
        ht_add_milestone(entry, "firmware_exit");
        ht_add_milestone(entry, "kernel_entry");
    } else if (setup && ht_fw_cfg_u32(fw_cfg, FW_CFG_SETUP_SIZE)) {
        ht_add_milestone(setup + LINUX_SETUP_ENTRY, "firmware_exit");
        ht_add_milestone(ht_fw_cfg_u32(fw_cfg, FW_CFG_KERNEL_ADDR),
                         "kernel_entry");
    }
}

/* KVM: a breakpoint for each milestone of the boot; @warn if none is left */
static void ht_arm_milestones(bool warn)
{
    unsigned i;

    if (!kvm_enabled()) {
        return;                 /* TCG checks them at translation */
    }
    for (i = 0; i < ht_probes.nr_milestones; i++) {
        if (!ht_arm_milestone(&ht_probes.milestones[i]) && warn) {
            warn_report("hypertrace: KVM gives %d hardware breakpoints; "
                        "milestone %s is not set", KVM_HW_BREAKPOINTS,
                        ht_probes.milestones[i].name);
        }
    }
}

static void ht_probes_init(void)
{
    ht_probes.probes = g_ptr_array_new_with_free_func(entry_probe_free);
    ht_probes.entries = g_hash_table_new(g_int64_hash, g_int64_equal);
    ht_probes.by_link = g_hash_table_new(g_int64_hash, g_int64_equal);
    ht_probes.returns = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                              g_free, NULL);
    ht_probes.pending = g_hash_table_new_full(pending_hash, pending_equal,
                                              g_free, NULL);
    ht_probes.armed = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                            g_free, g_free);
    ht_probes.removed = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                              g_free, NULL);
}

bool hypertrace_probes_start(const char *symbols, const char *probes,
                             bool milestones, Error **errp)
{
    g_autoptr(HtSymbols) syms = NULL;

    if (symbols) {
        syms = ht_symbols_load(symbols, errp);
        if (!syms) {
            return false;
        }
    }
    ht_probes_init();
    ht_probes.symbols_path = g_strdup(symbols ? symbols : "");
    if (!ht_parse_probes(syms, probes, errp) || !ht_find_banner(syms, errp)) {
        hypertrace_probes_stop();
        return false;
    }
    if (milestones) {
        ht_add_milestones();
        ht_arm_milestones(true);
    }
    ht_arm_entries(NULL, false);
    ht_probes_rearm_kernel();
    ht_kvm_sync();
    qatomic_set(&hypertrace_probes_enabled,
                ht_probes.probes->len || ht_probes.nr_milestones);
    return true;
}

void hypertrace_probes_stop(void)
{
    if (!ht_probes.probes) {
        return;
    }
    qatomic_set(&hypertrace_probes_enabled, false);
    hypertrace_kernel_watch_stop();
    if (kvm_enabled()) {
        hypertrace_kvm_breakpoints_remove_all();
        ht_probes.kvm_dirty = true;
        ht_kvm_sync();
    } else if (first_cpu) {
        ht_retranslate(first_cpu);  /* drop the helper calls */
    }
    QEMU_LOCK_GUARD(&ht_probes_lock);
    g_hash_table_destroy(ht_probes.armed);
    g_hash_table_destroy(ht_probes.removed);
    g_hash_table_destroy(ht_probes.pending);
    g_hash_table_destroy(ht_probes.returns);
    g_hash_table_destroy(ht_probes.entries);
    g_hash_table_destroy(ht_probes.by_link);
    g_ptr_array_free(ht_probes.probes, true);
    g_free(ht_probes.symbols_path);
    memset(&ht_probes, 0, sizeof(ht_probes));
}

HypertraceProbeInfo *hypertrace_probes_info(void)
{
    static const char *const kernel_states[] = {
        [KERNEL_NONE] = "none", [KERNEL_UNCHECKED] = "unchecked",
        [KERNEL_OK] = "ok", [KERNEL_REFUSED] = "refused",
    };
    HypertraceProbeInfo *info = g_new0(HypertraceProbeInfo, 1);

    QEMU_LOCK_GUARD(&ht_probes_lock);
    info->functions = ht_probes.probes->len;
    info->milestones = ht_probes.nr_milestones;
    info->kernel = g_strdup(kernel_states[ht_probes.kernel]);
    info->kaslr_offset = ht_probes.kaslr;
    info->return_sites = g_hash_table_size(ht_probes.returns);
    info->pending_returns = g_hash_table_size(ht_probes.pending);
    info->untracked_returns = ht_probes.untracked;
    return info;
}

void hypertrace_probes_reset(void)
{
    unsigned i;

    if (!ht_probes.probes) {
        return;
    }
    WITH_QEMU_LOCK_GUARD(&ht_probes_lock) {
        for (i = 0; i < ht_probes.nr_milestones; i++) {
            ht_probes.milestones[i].fired = false;
        }
        ht_arm_milestones(false);   /* the next boot passes them again */
        g_hash_table_remove_all(ht_probes.pending);
        ht_probes_rearm_kernel();   /* the next boot may move the kernel */
    }
    ht_kvm_sync();
}
