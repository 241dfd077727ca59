#!/bin/sh
# Install the Debian packages that building, testing and the demo need, on
# Debian 12 (bookworm) or 13 (trixie).  QEMU 10.0 needs meson 1.5 or newer:
# on bookworm it comes from bookworm-backports, whose entry this adds.
# Root uses apt-get directly, others sudo; otherwise print the command to run.
set -eu

PACKAGES="build-essential dpkg-dev pkg-config ninja-build python3 python3-venv
libglib2.0-dev libpixman-1-dev zlib1g-dev libslirp-dev libfdt-dev
liblttng-ust-dev lttng-tools babeltrace2 python3-bt2 python3-scipy
seabios ipxe-qemu qemu-system-data
binutils patch cpio busybox-static linux-image-amd64 linux-headers-amd64
flex bison bc libelf-dev libssl-dev"

# Arguments replace the list: optional tools (make fuzz) install on demand.
[ $# -gt 0 ] && PACKAGES="$*"

meson_new_enough() {
    v=$(meson --version 2>/dev/null) || return 1
    dpkg --compare-versions "$v" ge 1.5.0
}

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
need_meson=""
[ $# -gt 0 ] || meson_new_enough || need_meson=yes
[ -z "$missing" ] && [ -z "$need_meson" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "error: missing Debian packages:$missing${need_meson:+ meson (1.5 or newer)}" >&2
    echo "  run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    [ -n "$need_meson" ] && echo "  and meson from bookworm-backports:" \
        "apt-get install -y -t bookworm-backports meson" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "$need_meson" ] && [ "$(. /etc/os-release; echo "$VERSION_CODENAME")" = bookworm ]; then
    list=/etc/apt/sources.list.d/hypertrace-backports.sources
    echo "adding bookworm-backports for meson 1.5 or newer: $list"
    $SUDO sh -c "cat > $list" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "installing Debian packages:$missing${need_meson:+ meson}"
$SUDO apt-get update -q
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi
if [ -n "$need_meson" ]; then
    if [ -f /etc/apt/sources.list.d/hypertrace-backports.sources ]; then
        $SUDO apt-get install -y -q --no-install-recommends \
            -t bookworm-backports meson
    else
        $SUDO apt-get install -y -q --no-install-recommends meson
    fi
fi
