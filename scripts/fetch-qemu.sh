#!/bin/sh
# Fetch and unpack Debian trixie's qemu source package (QEMU 10.0.x with
# Debian's fixes) into DEST/src.  Works on Debian 12 and 13 alike: it adds
# a deb-src entry for trixie when apt has none that offers it.
# Usage: fetch-qemu.sh DEST
set -eu
dest=$1
suite=trixie
mkdir -p "$dest"
cd "$dest"

# A tree of another release (an older checkout's) is replaced.
case "$(cat src/VERSION 2>/dev/null)" in
10.0.*) ;;
*) rm -rf src ;;
esac

if [ ! -d src ]; then
    if ! apt-get source --print-uris "qemu/$suite" >/dev/null 2>&1; then
        list=/etc/apt/sources.list.d/hypertrace-deb-src.sources
        echo "adding a deb-src entry for $suite: $list"
        if [ "$(id -u)" != 0 ]; then
            echo "error: need root to add $list; add a deb-src entry for" \
                 "$suite and run apt-get update" >&2
            exit 1
        fi
        cat > "$list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        apt-get update -q
    fi
    rm -rf dl && mkdir dl
    (cd dl && apt-get source --download-only "qemu/$suite")
    dsc=$(ls dl/qemu_*.dsc | head -n 1)
    dpkg-source --no-check -x "$dsc" src.tmp
    case "$(cat src.tmp/VERSION)" in
    10.0.*) ;;
    *) echo "error: $dsc holds QEMU $(cat src.tmp/VERSION), not 10.0.x" >&2
       exit 1 ;;
    esac
    mv src.tmp src
    rm -rf dl
fi
