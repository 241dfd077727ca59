/*
 * hypertrace: guest symbol tables from a System.map or an ELF file
 *
 * The file comes from the host's user, not from the guest, but it is
 * still parsed with every offset checked: a truncated or foreign file
 * gets an error that names it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "elf.h"
#include "symbols.h"

struct HtSymbols {
    GPtrArray *all;             /* HtSymbol *, owned */
    GHashTable *by_name;        /* name -> first HtSymbol of that name */
};

/* Section and symbol fields that ELF32 and ELF64 share, widened. */
typedef struct ElfSection {
    uint32_t type, link;
    uint64_t offset, size, entsize;
} ElfSection;

typedef struct ElfFile {
    const uint8_t *data;
    gsize size;
    bool is64;
} ElfFile;

static void ht_symbol_free(gpointer p)
{
    HtSymbol *sym = p;

    g_free(sym->name);
    g_free(sym);
}

static HtSymbols *ht_symbols_new(void)
{
    HtSymbols *syms = g_new0(HtSymbols, 1);

    syms->all = g_ptr_array_new_with_free_func(ht_symbol_free);
    syms->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    return syms;
}

void ht_symbols_free(HtSymbols *syms)
{
    if (syms) {
        g_hash_table_destroy(syms->by_name);
        g_ptr_array_free(syms->all, true);
        g_free(syms);
    }
}

static void ht_symbols_add(HtSymbols *syms, uint64_t addr, char *name,
                           bool func)
{
    HtSymbol *sym = g_new(HtSymbol, 1);

    sym->addr = addr;
    sym->name = name;
    sym->func = func;
    g_ptr_array_add(syms->all, sym);
    if (!g_hash_table_contains(syms->by_name, name)) {
        g_hash_table_insert(syms->by_name, name, sym);
    }
}

const HtSymbol *ht_symbols_find(const HtSymbols *syms, const char *name)
{
    return g_hash_table_lookup(syms->by_name, name);
}

GPtrArray *ht_symbols_match(const HtSymbols *syms, const char *pattern)
{
    g_autoptr(GPatternSpec) spec = g_pattern_spec_new(pattern);
    GPtrArray *out = g_ptr_array_new();
    guint i;

    for (i = 0; i < syms->all->len; i++) {
        HtSymbol *sym = g_ptr_array_index(syms->all, i);

        if (sym->func && g_pattern_match_string(spec, sym->name)) {
            g_ptr_array_add(out, sym);
        }
    }
    return out;
}

/* "ADDRESS TYPE NAME", as in System.map; a trailing [module] is skipped. */
static bool ht_parse_map_line(HtSymbols *syms, char *line)
{
    g_auto(GStrv) f = g_strsplit_set(g_strstrip(line), " \t", -1);
    guint64 addr;

    if (!f[0] || !*f[0]) {
        return true;                    /* blank line */
    }
    if (g_strv_length(f) < 3 || strlen(f[1]) != 1 ||
        !g_ascii_isalpha(f[1][0]) ||
        !g_ascii_string_to_unsigned(f[0], 16, 0, UINT64_MAX, &addr, NULL)) {
        return false;
    }
    if (f[3] == NULL) {
        ht_symbols_add(syms, addr, g_strdup(f[2]),
                       strchr("tTwW", f[1][0]) != NULL);
    }
    return true;
}

static bool ht_parse_map(HtSymbols *syms, const char *path,
                         const char *data, gsize size, Error **errp)
{
    g_autofree char *text = g_strndup(data, size);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint i;

    for (i = 0; lines[i]; i++) {
        if (!ht_parse_map_line(syms, lines[i])) {
            error_setg(errp, "hypertrace: symbols=%s: line %u is not "
                       "'ADDRESS TYPE NAME' as in a System.map", path, i + 1);
            error_append_hint(errp, "Give a System.map, /proc/kallsyms "
                              "output or an ELF file with symbols.\n");
            return false;
        }
    }
    return true;
}

static bool elf_span_ok(const ElfFile *elf, uint64_t off, uint64_t len)
{
    return off <= elf->size && len <= elf->size - off;
}

static bool elf_section(const ElfFile *elf, uint64_t shoff, uint32_t i,
                        ElfSection *sec)
{
    if (elf->is64) {
        Elf64_Shdr sh;

        if (!elf_span_ok(elf, shoff + (uint64_t)i * sizeof(sh), sizeof(sh))) {
            return false;
        }
        memcpy(&sh, elf->data + shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
        *sec = (ElfSection) { sh.sh_type, sh.sh_link, sh.sh_offset,
                              sh.sh_size, sh.sh_entsize };
    } else {
        Elf32_Shdr sh;

        if (!elf_span_ok(elf, shoff + (uint64_t)i * sizeof(sh), sizeof(sh))) {
            return false;
        }
        memcpy(&sh, elf->data + shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
        *sec = (ElfSection) { sh.sh_type, sh.sh_link, sh.sh_offset,
                              sh.sh_size, sh.sh_entsize };
    }
    return true;
}

/* Symbol @i of @symtab: its name offset, value and type. */
static void elf_symbol(const ElfFile *elf, const ElfSection *symtab,
                       uint64_t i, uint32_t *name, uint64_t *value,
                       unsigned *type)
{
    const uint8_t *p = elf->data + symtab->offset + i * symtab->entsize;

    if (elf->is64) {
        Elf64_Sym s;

        memcpy(&s, p, sizeof(s));
        *name = s.st_name;
        *value = s.st_value;
        *type = ELF64_ST_TYPE(s.st_info);
    } else {
        Elf32_Sym s;

        memcpy(&s, p, sizeof(s));
        *name = s.st_name;
        *value = s.st_value;
        *type = ELF32_ST_TYPE(s.st_info);
    }
}

static void elf_add_symtab(HtSymbols *syms, const ElfFile *elf,
                           const ElfSection *symtab, const ElfSection *strtab)
{
    size_t min = elf->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
    const char *strings = (const char *)elf->data + strtab->offset;
    uint64_t i;

    if (symtab->entsize < min) {
        return;
    }
    for (i = 1; i < symtab->size / symtab->entsize; i++) {
        uint32_t name;
        uint64_t value;
        unsigned type;

        elf_symbol(elf, symtab, i, &name, &value, &type);
        if (name >= strtab->size || !strings[name] ||
            (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)) {
            continue;
        }
        ht_symbols_add(syms, value,
                       g_strndup(strings + name, strtab->size - name),
                       type == STT_FUNC);
    }
}

static bool ht_parse_elf(HtSymbols *syms, const char *path,
                         const uint8_t *data, gsize size, Error **errp)
{
    ElfFile elf = { data, size, size > EI_CLASS && data[EI_CLASS] ==
                    ELFCLASS64 };
    uint64_t shoff;
    uint32_t shnum, i;
    ElfSection sec, strtab;

    if (size < sizeof(Elf64_Ehdr) || data[EI_DATA] != ELFDATA2LSB) {
        error_setg(errp, "hypertrace: symbols=%s is not a little-endian "
                   "ELF file", path);
        return false;
    }
    if (elf.is64) {
        Elf64_Ehdr eh;

        memcpy(&eh, data, sizeof(eh));
        shoff = eh.e_shoff;
        shnum = eh.e_shnum;
    } else {
        Elf32_Ehdr eh;

        memcpy(&eh, data, sizeof(eh));
        shoff = eh.e_shoff;
        shnum = eh.e_shnum;
    }
    for (i = 0; i < shnum; i++) {
        if (!elf_section(&elf, shoff, i, &sec)) {
            error_setg(errp, "hypertrace: symbols=%s: section header %u "
                       "lies outside the file (truncated?)", path, i);
            return false;
        }
        if (sec.type == SHT_SYMTAB &&
            elf_section(&elf, shoff, sec.link, &strtab) &&
            elf_span_ok(&elf, sec.offset, sec.size) &&
            elf_span_ok(&elf, strtab.offset, strtab.size)) {
            elf_add_symtab(syms, &elf, &sec, &strtab);
        }
    }
    if (!syms->all->len) {
        error_setg(errp, "hypertrace: symbols=%s has no symbol table", path);
        error_append_hint(errp, "Give the unstripped ELF file, or its "
                          "System.map.\n");
        return false;
    }
    return true;
}

HtSymbols *ht_symbols_load(const char *path, Error **errp)
{
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GMappedFile) file = g_mapped_file_new(path, false, &gerr);
    HtSymbols *syms;
    const char *data;
    gsize size;
    bool ok;

    if (!file) {
        error_setg(errp, "hypertrace: cannot read symbols=%s: %s", path,
                   gerr->message);
        return NULL;
    }
    data = g_mapped_file_get_contents(file);
    size = g_mapped_file_get_length(file);
    if (!size) {
        error_setg(errp, "hypertrace: symbols=%s is empty", path);
        return NULL;
    }
    syms = ht_symbols_new();
    if (size >= SELFMAG && !memcmp(data, ELFMAG, SELFMAG)) {
        ok = ht_parse_elf(syms, path, (const uint8_t *)data, size, errp);
    } else {
        ok = ht_parse_map(syms, path, data, size, errp);
    }
    if (ok && !syms->all->len) {
        error_setg(errp, "hypertrace: symbols=%s holds no symbols", path);
        ok = false;
    }
    if (!ok) {
        ht_symbols_free(syms);
        return NULL;
    }
    return syms;
}
