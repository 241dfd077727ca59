#!/bin/sh
# Build an out-of-tree module for the guest kernel (Debian's
# linux-headers-amd64), in a build directory, never in the source tree.
#   build-kmod.sh OUTPUT.ko SRCDIR [EXTRA_FILE=DEST ...]
# SRCDIR holds Kbuild and the sources; each EXTRA_FILE is copied to DEST
# under the build directory (for headers kept elsewhere in the tree).
set -eu
out=$1 src=$2
shift 2
kdir=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
if [ -z "$kdir" ]; then
    echo "build-kmod.sh: no /usr/src/linux-headers-*-amd64:" \
         "apt-get install linux-headers-amd64" >&2
    exit 1
fi
work=$(dirname "$out")/$(basename "$out" .ko).build
rm -rf "$work"
mkdir -p "$work"
cp "$src"/* "$work"/
for pair in "$@"; do
    mkdir -p "$work/$(dirname "${pair#*=}")"
    cp "${pair%%=*}" "$work/${pair#*=}"
done
make -s -C "$kdir" M="$(cd "$work" && pwd)" modules
cp "$work/$(basename "$out")" "$out"
