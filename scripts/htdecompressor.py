#!/usr/bin/python3
"""htdecompressor: symbols for the code that unpacks a Linux bzImage.

  scripts/htdecompressor.py VMLINUZ [--out FILE] [--work DIR]
                            [--from-elf ZO_ELF] [--load-address ADDR]

Under TCG the decompressor dominates a distribution kernel's boot, and no
distribution ships its symbols.  For a Debian kernel this rebuilds it:
the `linux-source` package of the image's version, the image's own
config, compiler identity and compressed payload.  Its code must then be
the image's byte for byte, or nothing is written: a symbol table that
does not match the code would name samples wrongly.  For a kernel you
built yourself, pass your arch/x86/boot/compressed/vmlinux as --from-elf.

The output is an ELF of the decompressor's symbols at the addresses where
it runs once it has moved itself above the kernel (where nearly all its
time goes): give it to htboot.py with --symbols.  That address follows
from the image's header for boot loaders that load the kernel below
LOAD_PHYSICAL_ADDR (QEMU's -kernel, SeaBIOS, GRUB); --load-address gives
another load address.
"""

import argparse
import hashlib
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZO = "arch/x86/boot/compressed"
# what the decompressor needs of the kernel it unpacks (its voffset.h)
VOFFSET = {"_text": ".text", "__start_rodata": ".rodata",
           "__bss_start": ".bss"}


class Error(Exception):
    pass


def run(cmd, cwd=None, what=None):
    proc = subprocess.run(cmd, cwd=cwd, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    if proc.returncode:
        raise Error("%s failed (exit %d):\n%s" % (
            what or " ".join(cmd), proc.returncode, proc.stdout[-3000:]))
    return proc.stdout


# ---------------------------------------------------------------- the image

class Image:
    """The bzImage's boot header and compressed payload."""

    def __init__(self, path):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise Error("cannot read %s: %s" % (path, e.strerror))
        self.digest = hashlib.sha1(data).hexdigest()[:12]
        if len(data) < 0x270 or data[0x202:0x206] != b"HdrS":
            raise Error("%s is not an x86 bzImage (no HdrS boot header)"
                        % path)
        self.path = path
        setup_sects = data[0x1f1] or 4
        self.protected = data[(setup_sects + 1) * 512:]
        self.code32_start, = struct.unpack_from("<I", data, 0x214)
        self.alignment, = struct.unpack_from("<I", data, 0x230)
        offset, length = struct.unpack_from("<II", data, 0x248)
        self.init_size, = struct.unpack_from("<I", data, 0x260)
        self.payload = self.protected[offset:offset + length]
        version, = struct.unpack_from("<H", data, 0x20e)
        text = data[version + 0x200:version + 0x400].split(b"\0")[0]
        self.version = text.decode(errors="replace")
        m = re.match(r"(\S+) \(([^@]+)@([^)]+)\) (#(\d+) .*)$", self.version)
        if not m:
            raise Error("%s: cannot read its version string %r"
                        % (path, self.version))
        self.release, self.build_user, self.build_host = m.group(1, 2, 3)
        self.uts_version, self.build_version = m.group(4, 5)

    def kernel_sections(self):
        """{name: (address, size)} of the sections of the ELF kernel that
        the payload unpacks to (the kernel ELF, stripped, then relocs)."""
        try:
            raw = lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(
                self.payload[:-4])
        except lzma.LZMAError as e:
            raise Error("%s: cannot unpack its payload (%s); only "
                        "XZ-compressed kernels are supported" % (self.path, e))
        with tempfile.NamedTemporaryFile(suffix=".elf") as f:
            f.write(raw)
            f.flush()
            return {sec.name: (sec.addr, sec.size)
                    for sec in elf_sections(f.name)}


class Section:
    """One line of readelf -SW: name, type, address, offset, size, flags."""

    def __init__(self, words):
        self.name, self.type = words[0], words[1]
        self.addr, self.offset, self.size = (int(w, 16) for w in words[2:5])
        # ES, then Flg (may be empty), Lk, Inf, Al
        self.flags = words[6] if len(words) == 10 else ""


def elf_sections(path):
    out = run(["readelf", "-SW", path])
    for line in out.splitlines():
        head, bracket, rest = line.partition("]")
        words = rest.split()
        if bracket and head.strip().startswith("[") and len(words) >= 9 \
                and words[0] != "Name":
            yield Section(words)


def voffset_symbols(image):
    """The kernel symbols the decompressor is built against."""
    sections = image.kernel_sections()
    missing = [s for s in list(VOFFSET.values()) + [".brk"]
               if s not in sections]
    if missing:
        raise Error("%s: its kernel has no %s section"
                    % (image.path, ", ".join(missing)))
    found = {sym: sections[sec][0] for sym, sec in VOFFSET.items()}
    brk_addr, brk_size = sections[".brk"]
    found["_end"] = (brk_addr + brk_size + 4095) & ~4095
    return found


# ---------------------------------------------------------------- Debian

def debian_package(vmlinuz):
    """(package, version) that installed @vmlinuz."""
    try:
        owner = run(["dpkg-query", "-S", os.path.realpath(vmlinuz)])
    except (Error, OSError):
        raise Error("%s belongs to no Debian package: build your kernel's "
                    "%s/vmlinux and pass it with --from-elf" % (vmlinuz, ZO))
    package = owner.split(":")[0]
    version = run(["dpkg-query", "-W", "-f=${Version}", package])
    return package, version


def fetch_source(work, version):
    """The linux-source tarball of @version, downloaded once."""
    series = ".".join(version.split(".")[:2])
    name = "linux-source-" + series
    installed = "/usr/src/%s.tar.xz" % name
    try:
        have = run(["dpkg-query", "-W", "-f=${Version}", name])
    except Error:
        have = None
    if have == version and os.path.exists(installed):
        return installed
    tarball = os.path.join(work, "%s_%s.tar.xz" % (name, version))
    if os.path.exists(tarball):
        return tarball
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        print("htdecompressor: downloading %s=%s" % (name, version),
              flush=True)
        run(["apt-get", "download", "%s=%s" % (name, version)], cwd=tmp,
            what="apt-get download %s=%s (fix: apt-get update, or install "
                 "that version of %s)" % (name, version, name))
        deb = [f for f in os.listdir(tmp) if f.endswith(".deb")][0]
        run(["sh", "-c", "dpkg-deb --fsys-tarfile '%s' | tar -xO "
             "./usr/src/%s.tar.xz > '%s'" % (os.path.join(tmp, deb), name,
                                             tarball + ".tmp")])
    os.replace(tarball + ".tmp", tarball)
    return tarball


def unpack_source(work, tarball):
    src = os.path.join(work, "src")
    stamp = os.path.join(work, "src.unpacked")
    if os.path.exists(stamp) and open(stamp).read() == tarball:
        return src
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    print("htdecompressor: unpacking %s" % os.path.basename(tarball),
          flush=True)
    run(["tar", "-xJf", tarball, "--strip-components=1", "-C", src])
    with open(stamp, "w") as f:
        f.write(tarball)
    return src


# ---------------------------------------------------------------- the build

# Run inside the decompressor's own Makefile: its objects and link flags.
ZO_VARS = ("ht-zo-vars: ; @echo \"$$(vmlinux-objs-y)\"; "
           "echo \"$$(vmlinux-libs-y)\"; "
           "echo \"$$(LD) $$(KBUILD_LDFLAGS) $$(ldflags-y) "
           "$$(LDFLAGS_vmlinux)\"; echo \"$$(KBUILD_AFLAGS)\"")


def piggy_source(payload_name, payload):
    """What mkpiggy writes for @payload (its last 4 bytes: the size)."""
    out_len, = struct.unpack("<I", payload[-4:])
    return (".section \".rodata..compressed\",\"a\",@progbits\n"
            ".globl z_input_len\nz_input_len = %d\n"
            ".globl z_output_len\nz_output_len = %d\n"
            ".globl input_data, input_data_end\ninput_data:\n"
            ".incbin \"%s\"\ninput_data_end:\n"
            ".section \".rodata\",\"a\",@progbits\n"
            ".globl input_len\ninput_len:\n\t.long %d\n"
            ".globl output_len\noutput_len:\n\t.long %d\n"
            % (len(payload), out_len, payload_name, len(payload), out_len))


def kernel_config(vmlinuz, image):
    """The config installed next to @vmlinuz (Debian's /boot/config-*)."""
    path = os.path.join(os.path.dirname(os.path.realpath(vmlinuz)),
                        "config-" + image.release)
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        raise Error("cannot read the kernel's config %s: %s (it gives the "
                    "build and the load address)" % (path, e.strerror))


def check_compiler(config):
    want = re.search(r'^CONFIG_CC_VERSION_TEXT="(.*)"$', config, re.M)
    if not want:
        raise Error("the kernel's config names no compiler")
    cc = want.group(1).split()[0]
    have = shutil.which(cc) and run([cc, "--version"]).splitlines()[0]
    if have != want.group(1):
        raise Error("the kernel was built with %r; this machine has %r "
                    "(fix: install %s)" % (want.group(1), have or "none", cc))
    return cc


# ht.mk: kbuild's own rules, for the decompressor alone
BUILD_MAKEFILE = """include Makefile
ht-zo-prepare: prepare
ht-zo-vars: ht-zo-prepare
\t$(Q)$(MAKE) $(build)=%(zo)s --eval='%(vars)s' ht-zo-vars
ht-zo-objs: ht-zo-prepare
\t$(Q)$(MAKE) $(build)=arch/x86/lib arch/x86/lib/inat-tables.c
\t$(Q)$(MAKE) $(build)=%(zo)s $(HT_ZO_OBJS)
\t$(Q)$(foreach d,$(HT_ZO_LIBDIRS),$(MAKE) $(build)=$(d) &&) true
""" % {"zo": ZO, "vars": ZO_VARS}


def configure(src, cc, image, config):
    """The kernel's config in @src; the make command that builds as the
    image was built."""
    with open(os.path.join(src, ".config"), "w") as f:
        f.write(config)
    with open(os.path.join(src, "ht.mk"), "w") as f:
        f.write(BUILD_MAKEFILE)
    make = ["make", "-s", "-f", "ht.mk", "CC=" + cc,
            "KERNELRELEASE=" + image.release,
            "KBUILD_BUILD_USER=" + image.build_user,
            "KBUILD_BUILD_HOST=" + image.build_host,
            "KBUILD_BUILD_VERSION=" + image.build_version,
            "-j%d" % (os.cpu_count() or 1)]
    run(make + ["olddefconfig"], cwd=src)
    return make


def stand_in_kernel(image, src, work):
    """What the decompressor embeds of the kernel (voffset.h, made from a
    vmlinux with just those symbols) and of its build (UTS_VERSION)."""
    kernel = voffset_symbols(image)
    with open(os.path.join(work, "vo.S"), "w") as f:
        f.write("".join(".globl %s\n%s = 0x%x\n" % (s, s, a)
                        for s, a in sorted(kernel.items())))
    run(["as", "--64", "-o", os.path.join(work, "vo.o"),
         os.path.join(work, "vo.S")])
    run(["ld", "-r", "-o", os.path.join(src, "vmlinux"),
         os.path.join(work, "vo.o")])
    os.makedirs(os.path.join(src, "include", "generated"), exist_ok=True)
    with open(os.path.join(src, "include/generated/utsversion.h"), "w") as f:
        f.write('#define UTS_VERSION "%s"\n' % image.uts_version)


def build_decompressor(image, vmlinuz, config, work):
    """Rebuild the image's arch/x86/boot/compressed/vmlinux in @work."""
    _package, version = debian_package(vmlinuz)
    src = unpack_source(work, fetch_source(work, version))
    cc = check_compiler(config)
    print("htdecompressor: building %s of Debian's linux %s" % (ZO, version),
          flush=True)
    make = configure(src, cc, image, config)
    stand_in_kernel(image, src, work)
    objs, libs, ld, aflags = run(make + ["ht-zo-vars"],
                                 cwd=src).splitlines()[-4:]
    objs, libs = objs.split(), libs.split()
    run(make + ["ht-zo-objs", "HT_ZO_OBJS=" + " ".join(
        o for o in objs if not o.endswith("/piggy.o")),
        "HT_ZO_LIBDIRS=" + " ".join(sorted({os.path.dirname(lib)
                                            for lib in libs}))], cwd=src)
    # the image's own payload, not one made from a kernel we lack
    with open(os.path.join(src, ZO, "vmlinux.bin.xz"), "wb") as f:
        f.write(image.payload)
    with open(os.path.join(src, ZO, "piggy.S"), "w") as f:
        f.write(piggy_source(ZO + "/vmlinux.bin.xz", image.payload))
    run([cc] + aflags.split() + ["-c", "-o", ZO + "/piggy.o",
                                 ZO + "/piggy.S"], cwd=src)
    elf = os.path.join(work, "vmlinux")
    run(ld.split() + objs + libs + ["-o", elf], cwd=src)
    return elf


# ---------------------------------------------------------------- checks

def executable_sections(elf):
    """(name, address, offset, size) of each section of code."""
    for sec in elf_sections(elf):
        if sec.type == "PROGBITS" and "X" in sec.flags:
            yield sec.name, sec.addr, sec.offset, sec.size


def check_same_code(elf, image):
    """The ELF's code must be the image's, byte for byte."""
    with open(elf, "rb") as f:
        data = f.read()
    checked = 0
    for name, addr, offset, size in executable_sections(elf):
        ours = data[offset:offset + size]
        theirs = image.protected[addr:addr + size]
        if ours != theirs:
            differ = sum(a != b for a, b in zip(ours, theirs)) + \
                abs(len(ours) - len(theirs))
            raise Error("the decompressor's %s differs from %s's in %d of "
                        "%d bytes: its symbols would name the wrong code, so "
                        "none are written (fix: the same source, config and "
                        "compiler as the image, or --from-elf)"
                        % (name, image.path, differ, size))
        checked += size
    if not checked:
        raise Error("%s has no code sections" % elf)
    return checked


def symbol(elf, name):
    m = re.search(r"^([0-9a-f]+) \S %s$" % re.escape(name),
                  run(["nm", elf]), re.M)
    if not m:
        raise Error("%s has no symbol %s" % (elf, name))
    return int(m.group(1), 16)


def run_address(image, elf, load_address, config):
    """Where the decompressor runs after moving itself (head_64.S):
    the kernel's address, plus init_size, less the decompressor's _end."""
    start = re.search(r"^CONFIG_PHYSICAL_START=(0x[0-9a-f]+)$", config, re.M)
    align = re.search(r"^CONFIG_PHYSICAL_ALIGN=(0x[0-9a-f]+)$", config, re.M)
    if not start or not align:
        raise Error("the kernel's config lacks CONFIG_PHYSICAL_START or "
                    "CONFIG_PHYSICAL_ALIGN")
    a = int(align.group(1), 16)
    load_physical = (int(start.group(1), 16) + a - 1) & ~(a - 1)
    base = (load_address + image.alignment - 1) & ~(image.alignment - 1)
    if base < load_physical:
        base = load_physical
    return base + image.init_size - symbol(elf, "_end")


def write_symbols(elf, offset, out):
    """The ELF's symbols moved by @offset, without its payload."""
    run(["objcopy", "--adjust-vma", "0x%x" % offset,
         "--remove-section", ".rodata..compressed", "--strip-debug",
         elf, out + ".tmp"])
    os.replace(out + ".tmp", out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("vmlinuz")
    ap.add_argument("--out", help="default: BUILD/linux/decompressor-"
                    "RELEASE-HASH.elf, HASH of the image")
    ap.add_argument("--work", help="build folder (default: BUILD/linux/"
                    "decompressor)")
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--from-elf", metavar="ZO_ELF",
                    help="your kernel's %s/vmlinux: no rebuild" % ZO)
    ap.add_argument("--load-address", type=lambda s: int(s, 0),
                    help="where the boot loader put the protected-mode "
                    "kernel (default: the header's code32_start)")
    args = ap.parse_args(argv)
    try:
        path = decompressor_symbols(args.vmlinuz, args.build, args.out,
                                    args.work, args.from_elf,
                                    args.load_address)
    except Error as e:
        print("htdecompressor: error: %s" % e, file=sys.stderr)
        return 1
    print(path)
    return 0


def decompressor_symbols(vmlinuz, build, out=None, work=None, from_elf=None,
                         load_address=None):
    """Path of the decompressor symbols of @vmlinuz, made once."""
    image = Image(vmlinuz)
    out = out or os.path.join(build, "linux", "decompressor-%s-%s.elf"
                              % (image.release, image.digest))
    if os.path.exists(out) and not from_elf:
        return out
    work = work or os.path.join(build, "linux", "decompressor")
    os.makedirs(work, exist_ok=True)
    config = kernel_config(vmlinuz, image)
    elf = from_elf or build_decompressor(image, vmlinuz, config, work)
    size = check_same_code(elf, image)
    base = run_address(image, elf, load_address or image.code32_start,
                       config)
    write_symbols(elf, base, out)
    if not from_elf:    # 1.5 GB; the tarball stays for another image
        shutil.rmtree(os.path.join(work, "src"), ignore_errors=True)
        os.remove(os.path.join(work, "src.unpacked"))
    print("htdecompressor: %d bytes of code match %s; it runs at 0x%x"
          % (size, vmlinuz, base), flush=True)
    return out


if __name__ == "__main__":
    sys.exit(main())
