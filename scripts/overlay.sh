#!/bin/sh
# Copy our own files into the QEMU tree DEST at the same paths.  A file is
# copied only when its content changed, and then gets a new time, so ninja
# rebuilds exactly what depends on it.  Files we no longer have are removed.
# Usage: overlay.sh TOP DEST
set -eu
top=$1 dest=$2
roots="accel docs/specs hw include monitor qapi stubs target tests/qtest"

cd "$top"
list=$(find $roots -type f 2>/dev/null | sort)
for f in $list; do
    if ! cmp -s "$f" "$dest/$f"; then
        mkdir -p "$dest/$(dirname "$f")"
        cp "$f" "$dest/$f"
    fi
done
if [ -f "$dest/.hypertrace-overlay" ]; then
    printf '%s\n' "$list" | comm -13 - "$dest/.hypertrace-overlay" |
        while read -r gone; do rm -f "$dest/$gone"; done
fi
printf '%s\n' "$list" > "$dest/.hypertrace-overlay"
