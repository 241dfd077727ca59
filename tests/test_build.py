"""The fork's build steps: patches apply to the pinned tree, a patch that
does not apply stops with its name, applying the series again makes only
the files whose content changed look new, configure checks --qemu-src."""

import os
import shutil
import subprocess
import tempfile

import htlib
from htlib import check, check_eq

PRISTINE = os.path.join(htlib.BUILD, "upstream", "src")


def run(cmd, **kw):
    return subprocess.run(cmd, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, **kw)


def pristine():
    if not os.path.isfile(os.path.join(PRISTINE, "VERSION")):
        raise htlib.Skip("no fetched QEMU source (configured with --qemu-src)")
    return PRISTINE


def test_series_applies_and_overlay_copies():
    tmp = tempfile.mkdtemp(prefix="ht-build-")
    dest = os.path.join(tmp, "qemu")
    out = run([os.path.join(htlib.TOP, "scripts", "prepare-qemu.sh"),
               pristine(), dest, os.path.join(htlib.TOP, "patches")])
    check_eq(out.returncode, 0, "prepare-qemu.sh\n" + out.stdout)
    with open(os.path.join(htlib.TOP, "patches", "series")) as f:
        series = [l.strip() for l in f if l.strip()]
    for p in series:
        check("applying patches/" + p in out.stdout, out.stdout)
    out = run([os.path.join(htlib.TOP, "scripts", "overlay.sh"), htlib.TOP,
               dest])
    check_eq(out.returncode, 0, "overlay.sh\n" + out.stdout)
    for f in ("hw/hypertrace/hypertrace.c", "include/hypertrace/abi.h",
              "qapi/hypertrace.json", "tests/qtest/hypertrace-test.c"):
        with open(os.path.join(htlib.TOP, f), "rb") as a, \
                open(os.path.join(dest, f), "rb") as b:
            check(a.read() == b.read(), f + " not overlaid")
    shutil.rmtree(tmp)


def test_reprepare_keeps_times_of_unchanged_files():
    """A new series makes newer only what it changes, so ninja rebuilds
    only that; the files it patches as before keep their times."""
    tmp = tempfile.mkdtemp(prefix="ht-build-")
    patches, dest = os.path.join(tmp, "patches"), os.path.join(tmp, "qemu")
    shutil.copytree(os.path.join(htlib.TOP, "patches"), patches)
    prepare = [os.path.join(htlib.TOP, "scripts", "prepare-qemu.sh"),
               pristine(), dest, patches]
    check_eq(run(prepare).returncode, 0, "first prepare-qemu.sh")
    kept, edited = "trace/simple.h", "trace/simple.c"
    for f in (kept, edited):
        os.utime(os.path.join(dest, f), (1000000000, 1000000000))
    name = [p for p in os.listdir(patches) if "write-out-runs-of-records" in p]
    with open(os.path.join(patches, name[0])) as f:
        text = f.read()
    # one changed line in simple.c, and a new word in the message
    text = text.replace("The file format does not change.",
                        "The trace file format does not change.", 1)
    text = text.replace("+    /* room for any record and its type */",
                        "+    /* room for any one record and its type */", 1)
    with open(os.path.join(patches, name[0]), "w") as f:
        f.write(text)
    check_eq(run(prepare).returncode, 0, "second prepare-qemu.sh")
    check_eq(os.stat(os.path.join(dest, kept)).st_mtime, 1000000000,
             kept + "'s time (its content did not change)")
    check(os.stat(os.path.join(dest, edited)).st_mtime > 1000000000,
          edited + " changed but does not look new")
    shutil.rmtree(tmp)


def test_bad_patch_is_named():
    tmp = tempfile.mkdtemp(prefix="ht-build-")
    patches = os.path.join(tmp, "patches")
    os.makedirs(patches)
    with open(os.path.join(patches, "0001-broken.patch"), "w") as f:
        f.write("--- a/VERSION\n+++ b/VERSION\n@@ -1 +1 @@\n-0.0.0\n+9.9.9\n")
    with open(os.path.join(patches, "series"), "w") as f:
        f.write("0001-broken.patch\n")
    out = run([os.path.join(htlib.TOP, "scripts", "prepare-qemu.sh"),
               pristine(), os.path.join(tmp, "qemu"), patches])
    check(out.returncode != 0, "a broken patch was accepted")
    check("error: patches/0001-broken.patch does not apply" in out.stdout,
          out.stdout)
    check(not os.path.exists(os.path.join(tmp, "qemu")),
          "a half-patched tree was left behind")
    shutil.rmtree(tmp)


def test_configure_checks_qemu_src():
    tmp = tempfile.mkdtemp(prefix="ht-build-")
    fake = os.path.join(tmp, "qemu-7")
    os.makedirs(fake)
    with open(os.path.join(fake, "VERSION"), "w") as f:
        f.write("7.2.22\n")
    repo = os.path.join(tmp, "repo")
    shutil.copytree(htlib.TOP, repo, ignore=shutil.ignore_patterns(
        "build", ".git"))
    out = run([os.path.join(repo, "configure"), "--qemu-src=" + fake])
    check_eq(out.returncode, 1, "exit status")
    check("holds QEMU 7.2.22; hypertrace needs 10.0.x" in out.stdout,
          out.stdout)
    out = run([os.path.join(repo, "configure"), "--qemu-src=" + pristine()])
    check_eq(out.returncode, 0, "configure\n" + out.stdout)
    with open(os.path.join(repo, "build", "config.mk")) as f:
        check("QEMU_USER_SRC := " + pristine() in f.read(), "config.mk")
    out = run([os.path.join(repo, "configure"), "--bogus"])
    check("unknown option '--bogus'" in out.stdout, out.stdout)
    shutil.rmtree(tmp)


def test_checkpatch_clean():
    """QEMU's own checkpatch.pl passes on every patch of the series and on
    every C file we add to QEMU's tree (make checkpatch)."""
    pristine()
    out = run(["make", "-s", "-C", htlib.TOP, "checkpatch"])
    check_eq(out.returncode, 0, "make checkpatch\n" + out.stdout[-3000:])
    check("patches and" in out.stdout and "files clean" in out.stdout,
          out.stdout[-3000:])
