# Vireo: build, set-up and tests.  See README.md.
#
#   make run     install what is missing, build, boot the default guest
#   make test    install what is missing, build, run every test (ends with
#                one line "N passed, N failed")
#   make deps    install missing Debian packages (idempotent, quick when done)
#   make images  build the default guest from Debian packages (images/build.sh)
#   make bench   boot time and compute workloads of the default guest on
#                QEMU TCG, Vireo's JIT and its interpreter, and its disk
#                throughput (bench/boot.sh, bench/disk.sh)
#   make check-long   the long soak and fuzz runs

CC      ?= gcc
HOST_ARCH := $(shell uname -m)

PKGS_LIB  := capstone libxxhash libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS_LIB) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS_LIB) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -I. $(PKG_CFLAGS) -MMD -MP
LDLIBS  := $(PKG_LIBS) -lz -lpthread -lm

# Sanitizer build of the same sources, for the unit tests.
SAN_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -I. $(PKG_CFLAGS) -MMD -MP

# Every module except the program entry point goes into one library that
# the tests link against.  Host-specific code lives under jit/<host>/.
CORE_DIRS := util mmu cpu cpu/fpu cpu/sse jit hw machine frontends
CORE_SRC  := $(filter-out frontends/main.c,$(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c)))
ifeq ($(HOST_ARCH),x86_64)
CORE_SRC  += $(wildcard jit/x86_64/*.c)
endif
ifeq ($(HOST_ARCH),aarch64)
CORE_SRC  += $(wildcard jit/aarch64/*.c)
endif

CORE_OBJ     := $(CORE_SRC:%.c=build/obj/%.o)
CORE_SAN_OBJ := $(CORE_SRC:%.c=build/san/%.o)

# The DSDT: roms/acpi/dsdt.asl, compiled by Debian's iasl (acpica-tools)
# and turned into a C array that joins the library (machine/acpi.c).
CORE_OBJ     += build/obj/acpi/dsdt_aml.o
CORE_SAN_OBJ += build/san/acpi/dsdt_aml.o

UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/tests/unit/%)
UNIT_SAN  := $(UNIT_SRC:tests/unit/%.c=build/tests/unit-san/%)

DIFF_SRC  := $(wildcard tests/diff/*.c)
DIFF_BIN  := build/tests/diff/diff_unicorn
SST_BIN   := build/tests/sst/sst286
X87_SRC   := $(wildcard tests/diff/x87/*.c)
X87_BIN   := build/tests/diff/x87_host
SIMD_SRC  := $(wildcard tests/diff/simd_int/*.c)
SIMD_BIN  := build/tests/diff/simd_int_host
SSE_SRC   := $(wildcard tests/diff/sse/*.c)
SSE_BIN   := build/tests/diff/sse_host
HOSTLIB_SRC := $(wildcard tests/diff/hostlib/*.c)

ROMS      := build/roms/bios-256k.bin build/roms/vgabios-stdvga.bin

.PHONY: all deps images run test check-long unit clean bench
all: build/vireo $(ROMS)

# ---- set-up ---------------------------------------------------------------
deps:
	@sh tests/deps.sh

# The default guest: Debian's current kernel and a busybox initramfs, an ISO
# of the two and an ext4 data disk.  The script re-resolves the kernel's
# version every time and rebuilds only what changed, so it always runs.
images: deps
	@sh images/build.sh

# ---- the emulator ---------------------------------------------------------
build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c $< -o $@

build/libvireo.a: $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/libvireo-san.a: $(CORE_SAN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/vireo: build/obj/frontends/main.o build/libvireo.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# Firmware comes from Debian's seabios package; it is copied, not committed.
build/roms/%.bin: /usr/share/seabios/%.bin
	@mkdir -p $(dir $@)
	cp $< $@

# ---- ACPI -------------------------------------------------------------------
build/acpi/dsdt.aml: roms/acpi/dsdt.asl
	@mkdir -p $(dir $@)
	@command -v iasl >/dev/null || { echo "iasl not found: install acpica-tools (make deps)" >&2; exit 1; }
	iasl -vs -we -p build/acpi/dsdt $<

build/acpi/dsdt_aml.c: build/acpi/dsdt.aml
	{ echo '/* Generated from build/acpi/dsdt.aml (roms/acpi/dsdt.asl) by the Makefile. */'; \
	  echo '#include "machine/acpi.h"'; \
	  echo 'const uint8_t acpi_dsdt_aml[] = {'; \
	  od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/ 0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t acpi_dsdt_aml_len = sizeof(acpi_dsdt_aml);'; } >$@.tmp
	mv $@.tmp $@

build/obj/acpi/dsdt_aml.o: build/acpi/dsdt_aml.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/san/acpi/dsdt_aml.o: build/acpi/dsdt_aml.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c $< -o $@

# ---- tests ----------------------------------------------------------------
build/tests/unit/%: tests/unit/%.c build/libvireo.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< build/libvireo.a $(LDLIBS) -lcriterion

build/tests/unit-san/%: tests/unit/%.c build/libvireo-san.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $< build/libvireo-san.a $(LDLIBS) -lcriterion

# libunicorn exports QEMU's cpu_reset, and calls it through the PLT: keep
# libvireo's symbols out of the binary's dynamic table so that Unicorn's
# calls do not bind to Vireo's cpu_reset.
$(DIFF_BIN): $(DIFF_SRC) build/libvireo.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(DIFF_SRC) build/libvireo.a $(LDLIBS) -lunicorn \
		-Wl,--exclude-libs,libvireo.a

# The x87, MMX/SSE integer and SSE floating-point harnesses: Vireo against
# the host CPU and Unicorn (tests/diff/x87/, simd_int/, sse/, each with
# tests/diff/hostlib/).  Unicorn is linked on x86-64 hosts only, with
# --exclude-libs as above.
$(X87_BIN): $(X87_SRC) tests/diff/x87/x87diff.h
$(SIMD_BIN): $(SIMD_SRC) tests/diff/simd_int/simddiff.h
$(SSE_BIN): $(SSE_SRC) tests/diff/sse/ssediff.h
$(X87_BIN) $(SIMD_BIN) $(SSE_BIN): $(HOSTLIB_SRC) tests/diff/hostlib/hostlib.h build/libvireo.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c,$^) build/libvireo.a $(LDLIBS) \
		$(if $(filter x86_64,$(HOST_ARCH)),-lunicorn) -Wl,--exclude-libs,libvireo.a

$(SST_BIN): tests/sst/sst286.c build/libvireo.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< build/libvireo.a $(LDLIBS)

unit: $(UNIT_BIN) $(UNIT_SAN)

TEST_BINS := build/vireo $(ROMS) $(UNIT_BIN) $(UNIT_SAN) \
	$(if $(DIFF_SRC),$(DIFF_BIN)) $(if $(wildcard tests/sst/sst286.c),$(SST_BIN)) \
	$(if $(X87_SRC),$(X87_BIN))

TEST_BINS += $(if $(SIMD_SRC),$(SIMD_BIN))
TEST_BINS += $(if $(SSE_SRC),$(SSE_BIN))

# The serial-console driver of the guest tests (tests/guest/console.c).
CONSOLE_BIN := build/tests/guest/console
$(CONSOLE_BIN): tests/guest/console.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<
TEST_BINS += $(CONSOLE_BIN)

# The qcow2 fuzz target (tests/fuzz/): a standalone mutator under ASan for
# make test, and a libFuzzer build (clang) for make check-long.
FUZZ_BIN      := build/tests/fuzz/qcow2_fuzz
LIBFUZZER_BIN := build/tests/fuzz/qcow2_libfuzzer
FUZZ_DEPS     := machine/block.c machine/block_raw.c $(wildcard machine/qcow2*.c) \
	machine/events.c machine/clock.c util/log.c
$(FUZZ_BIN): tests/fuzz/qcow2_fuzz.c build/libvireo-san.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -DFUZZ_STANDALONE -o $@ $< build/libvireo-san.a $(LDLIBS)
$(LIBFUZZER_BIN): tests/fuzz/qcow2_fuzz.c $(FUZZ_DEPS) $(wildcard machine/*.h)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I. -o $@ tests/fuzz/qcow2_fuzz.c $(FUZZ_DEPS) -lz -lzstd -lpthread -lm
TEST_BINS += $(FUZZ_BIN)

test: deps images
	@$(MAKE) --no-print-directory $(TEST_BINS)
	@sh tests/run.sh

check-long: deps images
	@sh tests/deps.sh --cross
	@$(MAKE) --no-print-directory $(TEST_BINS) $(LIBFUZZER_BIN)
	@VIREO_LONG=1 sh tests/run.sh

# Boot the default guest on the terminal: a shell on the serial console;
# `poweroff` ends it (Ctrl-A x also quits).
RUN_APPEND := console=ttyS0
run: deps images
	@$(MAKE) --no-print-directory all
	./build/vireo -m 512 -nographic -kernel build/images/vmlinuz \
		-initrd build/images/initramfs.cpio.gz -append "$(RUN_APPEND)"

bench: deps images
	@$(MAKE) --no-print-directory all $(CONSOLE_BIN)
	@sh bench/boot.sh
	@sh bench/disk.sh

clean:
	rm -rf build

-include $(CORE_OBJ:.o=.d) $(CORE_SAN_OBJ:.o=.d) build/obj/frontends/main.d
