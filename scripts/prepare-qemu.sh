#!/bin/sh
# Copy a pristine QEMU tree to DEST and apply our patch series to the copy.
# Usage: prepare-qemu.sh PRISTINE DEST PATCHDIR
# Stops at the first patch that does not apply, naming it.
set -eu
pristine=$1 dest=$2 patchdir=$3

rm -rf "$dest.tmp"
echo "copying QEMU $(cat "$pristine/VERSION") from $pristine"
cp -a "$pristine" "$dest.tmp"
while read -r p; do
    case "$p" in ''|'#'*) continue ;; esac
    echo "applying patches/$p"
    if ! patch -p1 -s -N --no-backup-if-mismatch -d "$dest.tmp" \
            < "$patchdir/$p"; then
        echo "error: patches/$p does not apply to $pristine;" \
             "rebase it onto this QEMU version" >&2
        rm -rf "$dest.tmp"
        exit 1
    fi
done < "$patchdir/series"

# Files patched now or by the previous series whose content changed: make
# them newer than any build output (cp -a restored the pristine times).
# Those whose content did not change keep their time: patch rewrote them,
# but nothing built from them needs building again.
new_list=$(sed -n 's|^+++ b/||p' "$patchdir"/*.patch | sort -u)
old_list=$(cat "$dest/.hypertrace-patched" 2>/dev/null || true)
printf '%s\n' "$new_list" > "$dest.tmp/.hypertrace-patched"
changed=""
for f in $new_list $old_list; do
    [ -e "$dest.tmp/$f" ] || continue
    if cmp -s "$dest/$f" "$dest.tmp/$f"; then
        touch -r "$dest/$f" "$dest.tmp/$f"
    else
        changed="$changed $f"
    fi
done
# Carry the overlaid files over with their times, so that overlay.sh
# copies (and ninja rebuilds) only those that changed since.
if [ -f "$dest/.hypertrace-overlay" ]; then
    (cd "$dest" && cpio -pdm --quiet "../$(basename "$dest").tmp") \
        < "$dest/.hypertrace-overlay"
    cp -p "$dest/.hypertrace-overlay" "$dest.tmp/"
fi
rm -rf "$dest.old"
[ -d "$dest" ] && mv "$dest" "$dest.old"
mv "$dest.tmp" "$dest"
rm -rf "$dest.old"
for f in $changed; do
    touch "$dest/$f"
done
exit 0
