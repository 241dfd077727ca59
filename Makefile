# hypertrace: build, test and demo.  See README.md.
#
#   make          set up, fetch upstream QEMU, build the fork and the guests
#   make check    ... then run every test
#   make demo     ... then boot Linux with hypertrace probes: a boot report
#   make demo-diff  ... boot it 4 times quiet, 4 times chatty: what changed
#   make bench    per-event cost benchmarks (not part of check)
#   make check-sanitize  every test on a QEMU built with ASan and UBSan
#   make fuzz     libFuzzer on the device (FUZZ_SECONDS=600, FUZZ_TARGET)
#   make checkpatch  QEMU's checkpatch.pl on every patch and our C files
#   make clean    remove build products, keep the fetched QEMU source
#   make distclean  remove build/ entirely

B := build
-include $(B)/config.mk

PRISTINE := $(if $(QEMU_USER_SRC),$(QEMU_USER_SRC),$(B)/upstream/src)
QSRC := $(B)/qemu-src
QBUILD := $(B)/qemu-build
QEMU := $(B)/qemu-system-x86_64
GBUILD := $(B)/ours
PYTHON := /usr/bin/python3
QEMU_CONFIGURE := --target-list=x86_64-softmmu \
	--enable-trace-backends=simple,ust \
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu \
	--disable-docs --disable-download --disable-install-blobs \
	--python=$(PYTHON) \
	$(QEMU_EXTRA_CONFIGURE)
QEMU_TARGETS := qemu-system-x86_64 qemu-img tests/qtest/hypertrace-test \
	trace/trace-events-all

.PHONY: all qemu qemu-sanitize ours overlay check check-sanitize demo demo-diff \
	bench fuzz checkpatch clean distclean
all: qemu ours

$(B)/config.mk: configure
	./configure $(CONFIGURE_ARGS)
	@touch $@

# QEMU is configured again only when its source or options change.
QEMU_CONFIG_LINE := $(PRISTINE) $(QEMU_CONFIGURE)
QEMU_CONFIG_STAMP := $(B)/qemu-configure.args
$(shell mkdir -p $(B); echo '$(QEMU_CONFIG_LINE)' | cmp -s - $(QEMU_CONFIG_STAMP) || \
	echo '$(QEMU_CONFIG_LINE)' > $(QEMU_CONFIG_STAMP))

$(B)/.deps-stamp: scripts/install-deps.sh
	@mkdir -p $(B)
	scripts/install-deps.sh
	@touch $@

$(B)/upstream/src/VERSION: scripts/fetch-qemu.sh | $(B)/.deps-stamp
	scripts/fetch-qemu.sh $(B)/upstream
	@touch $@

$(QSRC)/.hypertrace-patched: $(PRISTINE)/VERSION patches/series \
		$(wildcard patches/*.patch) | $(B)/config.mk $(B)/.deps-stamp
	scripts/prepare-qemu.sh $(PRISTINE) $(QSRC) patches

overlay: $(QSRC)/.hypertrace-patched
	@scripts/overlay.sh . $(QSRC)

# Patch changes reach ninja through the meson files they touch; only a
# new configuration needs a fresh build directory.
$(QBUILD)/build.ninja: $(QEMU_CONFIG_STAMP) | $(QSRC)/.hypertrace-patched overlay
	rm -rf $(QBUILD) && mkdir -p $(QBUILD)
	cd $(QBUILD) && ../qemu-src/configure $(QEMU_CONFIGURE)

# Run from the build tree, QEMU looks for firmware under qemu-bundle/ with
# the configured paths; point those at Debian's firmware packages.
FIRMWARE_DIRS := /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu

link_firmware = for d in $(FIRMWARE_DIRS); do \
		mkdir -p $(1)/qemu-bundle$$(dirname $$d); \
		ln -sfn $$d $(1)/qemu-bundle$$d; \
	done

print_upstream = echo "upstream QEMU $$(cat $(QSRC)/VERSION)$$(dpkg-parsechangelog \
		-l $(QSRC)/debian/changelog -S Version 2>/dev/null | \
		sed 's/^/ (Debian /;s/$$/)/')"

qemu: overlay $(QBUILD)/build.ninja
	@$(print_upstream)
	ninja -C $(QBUILD) $(QEMU_TARGETS)
	@$(call link_firmware,$(QBUILD))
	@ln -sf qemu-build/qemu-system-x86_64 $(QEMU)

# make check-sanitize: the same QEMU with ASan and UBSan, in its own
# build directory, running the same tests.
SANBUILD := $(B)/qemu-build-sanitize
$(SANBUILD)/build.ninja: $(QEMU_CONFIG_STAMP) | $(QSRC)/.hypertrace-patched overlay
	rm -rf $(SANBUILD) && mkdir -p $(SANBUILD)
	cd $(SANBUILD) && ../qemu-src/configure $(QEMU_CONFIGURE) \
		--enable-asan --enable-ubsan --disable-werror

qemu-sanitize: overlay $(SANBUILD)/build.ninja
	ninja -C $(SANBUILD) qemu-system-x86_64 tests/qtest/hypertrace-test \
		trace/trace-events-all
	@$(call link_firmware,$(SANBUILD))

check-sanitize: qemu-sanitize qemu ours
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(PYTHON) tests/run.py --build $(B) --qemu-build $(SANBUILD)

# make fuzz: a libFuzzer campaign (clang, ASan) on the device, for
# FUZZ_SECONDS (default 600), with QEMU's fuzzing build: FUZZ_TARGET
# hypertrace-fuzz (ours, the default) or generic-fuzz.  Seeds come from
# tests/fuzz/; crashes land in build/fuzz/ and tests/fuzz/crashes/.
FUZZBUILD := $(B)/qemu-build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_TARGET ?= hypertrace-fuzz
$(FUZZBUILD)/build.ninja: $(QEMU_CONFIG_STAMP) | $(QSRC)/.hypertrace-patched overlay
	command -v clang >/dev/null && [ -d /usr/lib/llvm-14/lib/clang ] || \
		scripts/install-deps.sh clang libclang-rt-14-dev
	rm -rf $(FUZZBUILD) && mkdir -p $(FUZZBUILD)
	cd $(FUZZBUILD) && ../qemu-src/configure --target-list=i386-softmmu \
		--cc=clang --cxx=clang++ --enable-fuzzing --enable-asan --enable-ubsan \
		--enable-trace-backends=log --disable-docs --disable-werror \
		--disable-download --disable-install-blobs --python=$(PYTHON)

fuzz: overlay $(FUZZBUILD)/build.ninja
	ninja -C $(FUZZBUILD) qemu-fuzz-i386
	$(PYTHON) tests/fuzz/run.py --build $(B) --seconds $(FUZZ_SECONDS) \
		--target $(FUZZ_TARGET)

$(GBUILD)/build.ninja: meson.build | $(B)/.deps-stamp
	rm -rf $(GBUILD)
	meson setup $(GBUILD) .

ours: $(GBUILD)/build.ninja
	ninja -C $(GBUILD)

check: all
	$(PYTHON) tests/run.py --build $(B)

demo: all
	$(PYTHON) scripts/demo.py --build $(B) $(if $(OUT),--out $(OUT))

demo-diff: all
	$(PYTHON) scripts/demo.py --build $(B) --diff 4 $(if $(OUT),--out $(OUT))

bench: all
	$(PYTHON) tests/bench/run.py --build $(B)

# QEMU's own style checker, from the pinned tree, on every patch of the
# series and on each C file that we add to QEMU's tree.
QEMU_C_FILES = $(shell git ls-files 'hw/*.[ch]' 'include/hw/*.[ch]' \
	'target/*.[ch]' 'accel/*.[ch]' 'stubs/*.[ch]' 'tests/qtest/*.[ch]' \
	2>/dev/null)
checkpatch: $(PRISTINE)/VERSION
	@fail=0; for p in $$(cat patches/series); do \
		$(PRISTINE)/scripts/checkpatch.pl -q patches/$$p || \
			{ echo "checkpatch: patches/$$p"; fail=1; }; \
	done; \
	for f in $(QEMU_C_FILES); do \
		$(PRISTINE)/scripts/checkpatch.pl -q --no-tree -f $$f || \
			{ echo "checkpatch: $$f"; fail=1; }; \
	done; \
	[ $$fail = 0 ] && echo "checkpatch: $(words $(shell cat patches/series)) patches and $(words $(QEMU_C_FILES)) files clean"

clean:
	rm -rf $(QBUILD) $(SANBUILD) $(FUZZBUILD) $(GBUILD) $(QEMU) \
		$(B)/tests $(B)/demo $(B)/demo-diff $(B)/fuzz

distclean:
	rm -rf $(B)
