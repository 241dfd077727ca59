#!/bin/sh
# Fetch and unpack Debian bookworm's qemu source package into DEST.
# Usage: fetch-qemu.sh DEST   (DEST/ gets the unpacked tree as DEST/src)
set -eu
dest=$1
mkdir -p "$dest"
cd "$dest"

if [ ! -d src ]; then
    if ! apt-get source --print-uris qemu >/dev/null 2>&1; then
        list=/etc/apt/sources.list.d/hypertrace-deb-src.sources
        echo "adding a bookworm deb-src entry: $list"
        if [ "$(id -u)" != 0 ]; then
            echo "error: need root to add $list; add a deb-src line for bookworm and run apt-get update" >&2
            exit 1
        fi
        cat > "$list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        apt-get update -q
    fi
    rm -rf dl && mkdir dl
    (cd dl && apt-get source --download-only qemu)
    dsc=$(ls dl/qemu_*.dsc | head -n 1)
    dpkg-source --no-check -x "$dsc" src.tmp
    mv src.tmp src
    rm -rf dl
fi
