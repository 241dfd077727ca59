#!/bin/sh
# Install the Debian packages that building, testing and the demo need.
# Root uses apt-get directly, others sudo; otherwise print the command to run.
set -eu

PACKAGES="build-essential dpkg-dev pkg-config meson ninja-build python3
libglib2.0-dev libpixman-1-dev zlib1g-dev libslirp-dev libfdt-dev
liblttng-ust-dev lttng-tools babeltrace2 python3-bt2
seabios ipxe-qemu qemu-system-data
binutils patch cpio busybox-static linux-image-amd64 linux-headers-amd64"

# Arguments replace the list: optional tools (make fuzz) install on demand.
[ $# -gt 0 ] && PACKAGES="$*"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "error: missing Debian packages:$missing" >&2
    echo "  run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
