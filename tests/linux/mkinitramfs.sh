#!/bin/sh
# Build a busybox initramfs: mkinitramfs.sh OUTPUT INIT [FILE...]
# Each FILE lands in the image's root under its own name.
set -eu
out=$1 init=$2
shift 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"    # mktemp made it 0700: unprivileged users need it
mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/sys" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
cp "$init" "$root/init"
chmod 755 "$root/init"
for f in "$@"; do
    cp "$f" "$root/$(basename "$f")"
done
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
