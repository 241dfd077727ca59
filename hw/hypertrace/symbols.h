/*
 * hypertrace: guest symbol tables from a System.map or an ELF file
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_HYPERTRACE_SYMBOLS_H
#define HW_HYPERTRACE_SYMBOLS_H

typedef struct HtSymbol {
    uint64_t addr;
    char *name;
    bool func;          /* code: System.map type t/T/w/W, ELF STT_FUNC */
} HtSymbol;

typedef struct HtSymbols HtSymbols;

/*
 * Load every symbol of @path: a System.map (or /proc/kallsyms) text file,
 * or a little-endian ELF32/ELF64 file with a symbol table.
 */
HtSymbols *ht_symbols_load(const char *path, Error **errp);
void ht_symbols_free(HtSymbols *syms);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HtSymbols, ht_symbols_free)

/* The symbol called @name, or NULL. */
const HtSymbol *ht_symbols_find(const HtSymbols *syms, const char *name);

/* Every function symbol whose name matches the glob @pattern (* and ?). */
GPtrArray *ht_symbols_match(const HtSymbols *syms, const char *pattern);

#endif
