# DrillSergeantHQ — plain Makefile.
#
#   make            libdshq (static + shared), the RL core and the dshq tool, into build/
#   make test       build and run the whole test suite (summary: "N passed, N failed")
#   make san        the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan       the suite under ThreadSanitizer
#   make mutants    single-point protocol mutants vs the channel tests (scripts/mutants.sh)
#   make test-stress the whole suite several times beside a CPU hog (scripts/test-stress.sh)
#   make fuzz       build the libFuzzer targets (clang): region header, checkpoint
#                   loader, chunk checks, mailbox decoding, metrics JSONL reader
#   make fuzz-run   run each target FUZZ_SECONDS (default 60) from its seed corpus
#   make chaos      the fault scenarios at full length (about 5 min) and their table
#   make bench      build the benchmarks (peers: run `make bench-deps` once, as root)
#   make install    the tool, libdshq (shared with a soname, static), headers,
#                   dshq.pc and man pages under DESTDIR/PREFIX; make uninstall
#   make python     build/libdshq_py.so, the C side of the Python package python/dshq
#
#   make layers    check the layering (also part of `make`)
#   make check-wasm  compile src/run and src/rl with Emscripten (when installed)
#
# Sources are found by wildcard, one folder per layer:
#   src/transport  -> libdshq    (shared memory only; knows nothing of RL)
#   src/rl         -> librl      (environment, network, PPO; knows nothing of shared memory)
#   src/run        -> libdshqrun (the portable run layer: run block, config, roles
#                                 trainer / worker / show over a region; no fork,
#                                 signals, terminal or exit; builds for Emscripten)
#   src/cli        -> the dshq tool: commands, fork launcher, signals, terminal
#   src/mpi        -> (into the tool's library) `train --mpi`: Open MPI forwarder
#                     and receiver; compiled with mpicc's flags when present
#
# Layering is enforced by include paths: each layer sees only the folders it
# may use (links under $(BUILD)/inc/LAYER), so a stray #include fails to build.
#   transport: include/ + transport        rl: rl only
#   run: include/ + rl + run               cli, tests, bench: everything

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
SANITIZE ?=
CFLAGS_BASE = -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
              $(OPT) -g -fPIC -pthread $(SANITIZE) $(EXTRA_CFLAGS)
CFLAGS_ALL = $(CFLAGS_BASE) -Iinclude -Isrc
INC        = $(BUILD)/inc
# Per-layer include paths (see above).
INC_transport = -Iinclude -I$(INC)/transport
INC_rl        = -I$(INC)/rl
INC_run       = -Iinclude -I$(INC)/run
INC_cli       = -Iinclude -Isrc
LDFLAGS_ALL = -pthread $(SANITIZE) $(EXTRA_LDFLAGS)
LDLIBS_ALL  = -lm -lrt -lz -lmicrohttpd $(MPI_LIBS)
# Open MPI (src/mpi, `dshq train --mpi`), when mpicc is installed: its compile
# flags for src/mpi only (as -isystem, so -Werror does not judge its headers),
# its link flags for everything that links the dshq tool's library.  Without
# it src/mpi builds stubs and --mpi says the build has no MPI.
MPICC     ?= mpicc
MPI_LIBS  := $(shell $(MPICC) --showme:link 2>/dev/null)
MPI_FLAGS := $(if $(MPI_LIBS),-DDSHQ_HAVE_MPI $(patsubst -I%,-isystem %,$(shell $(MPICC) --showme:compile 2>/dev/null)))
# Quiet by default; `make V=1` shows the full commands.
Q = $(if $(V),,@)

LIB_SRC   := $(sort $(wildcard src/transport/*.c))
RL_SRC    := $(sort $(wildcard src/rl/*.c))
RUN_SRC   := $(sort $(wildcard src/run/*.c))
CLI_SRC   := $(sort $(filter-out src/cli/main.c,$(wildcard src/cli/*.c)))
MPI_SRC   := $(sort $(wildcard src/mpi/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
RL_OBJ    := $(RL_SRC:%.c=$(BUILD)/obj/%.o)
RUN_OBJ   := $(RUN_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(MPI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

LIBDSHQ_A  := $(BUILD)/libdshq.a
# The shared library carries a soname of the ABI major (include/dshq/region.h):
# libdshq.so -> libdshq.so.1 -> libdshq.so.1.0.0
DSHQ_VERSION := 1.0.0
DSHQ_SOMAJOR := 1
LIBDSHQ_SO := $(BUILD)/libdshq.so
LIBDSHQ_SO_REAL := $(BUILD)/libdshq.so.$(DSHQ_VERSION)
# The Python package's C side (python/shim): the run layer and the RL core
# over libdshq.so, one flat API that ctypes loads (python/dshq/_lib.py).
PYSHIM_SRC := $(sort $(wildcard python/shim/*.c))
LIBDSHQ_PY := $(BUILD)/libdshq_py.so
LIBRL_A    := $(BUILD)/librl.a
LIBRUN_A   := $(BUILD)/libdshqrun.a
LIBCLI_A   := $(BUILD)/libdshqcli.a
DSHQ       := $(BUILD)/dshq
ALL_LIBS   := $(LIBCLI_A) $(LIBRUN_A) $(LIBRL_A) $(LIBDSHQ_A)

.PHONY: all test san tsan fuzz fuzz-run chaos bench bench-deps tests clean layers check-wasm \
        mutants test-stress install uninstall python
all: $(LIBDSHQ_A) $(LIBDSHQ_SO) $(LIBRL_A) $(LIBRUN_A) $(DSHQ) $(if $(PYSHIM_SRC),$(LIBDSHQ_PY)) layers

# The folders each layer may include from, as links: $(INC)/LAYER/NAME -> src/NAME.
INC_LINKS = $(INC)/transport/transport $(INC)/rl/rl $(INC)/run/rl $(INC)/run/run
$(INC_LINKS):
	@mkdir -p $(dir $@)
	$(Q)ln -sfn $(abspath src/$(notdir $@)) $@

$(BUILD)/obj/src/transport/%.o: src/transport/%.c | $(INC_LINKS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_transport) -MMD -MP -c $< -o $@
$(BUILD)/obj/src/rl/%.o: src/rl/%.c | $(INC_LINKS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_rl) -MMD -MP -c $< -o $@
$(BUILD)/obj/src/run/%.o: src/run/%.c | $(INC_LINKS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_run) -MMD -MP -c $< -o $@
$(BUILD)/obj/src/cli/%.o: src/cli/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_cli) -MMD -MP -c $< -o $@
$(BUILD)/obj/src/mpi/%.o: src/mpi/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_cli) $(MPI_FLAGS) -MMD -MP -c $< -o $@
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# The run layer must stay portable (Emscripten, threads, Web Workers): no
# process control, signals, terminal or exit in src/run.  Include paths keep
# it off src/cli; this keeps it off the host-only parts of libc.
RUN_FORBIDDEN = '\<(fork|exec[lv]p?e?|waitpid|kill|signal|sigaction|raise|exit|_exit|abort|isatty|tcsetattr|tcgetattr)[[:space:]]*\(|<(signal|termios|sys/wait|sys/ioctl)\.h>'
# Optional: the portable layers through Emscripten's compiler (syntax and
# warnings only; `apt-get install emscripten`).  Not part of any other target.
EMCC ?= emcc
check-wasm: | $(INC_LINKS)
	@if ! command -v $(EMCC) >/dev/null; then echo "check-wasm: no $(EMCC); skipped"; exit 0; fi; \
	for f in $(RUN_SRC); do $(EMCC) -std=gnu11 -Wall -Wextra -Werror -pthread $(INC_run) -fsyntax-only $$f || exit 1; done; \
	for f in $(RL_SRC); do $(EMCC) -std=gnu11 -Wall -Wextra -Werror -pthread $(INC_rl) -fsyntax-only $$f || exit 1; done; \
	echo "check-wasm: src/run and src/rl compile for wasm32-emscripten"

layers:
	$(Q)if grep -nE $(RUN_FORBIDDEN) src/run/*.c src/run/*.h; then \
	  echo "src/run uses a host-only call or header (above): move it to src/cli"; exit 1; fi

$(LIBDSHQ_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBDSHQ_SO_REAL): $(LIB_OBJ)
	$(Q)$(CC) -shared -Wl,-soname,libdshq.so.$(DSHQ_SOMAJOR) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)
$(LIBDSHQ_SO): $(LIBDSHQ_SO_REAL)
	$(Q)ln -sfn libdshq.so.$(DSHQ_VERSION) $(BUILD)/libdshq.so.$(DSHQ_SOMAJOR)
	$(Q)ln -sfn libdshq.so.$(DSHQ_SOMAJOR) $@
python: $(LIBDSHQ_PY)
$(LIBDSHQ_PY): $(PYSHIM_SRC) $(wildcard python/shim/*.h) $(LIBRUN_A) $(LIBRL_A) $(LIBDSHQ_SO) | $(INC_LINKS)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_run) -shared -o $@ $(PYSHIM_SRC) $(LIBRUN_A) $(LIBRL_A) \
	  -L$(BUILD) -ldshq -Wl,-rpath,'$$ORIGIN' $(LDFLAGS_ALL) $(LDLIBS_ALL)
$(LIBRL_A): $(RL_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBRUN_A): $(RUN_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBCLI_A): $(CLI_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(DSHQ): $(BUILD)/obj/src/cli/main.o $(ALL_LIBS)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# Tests that drive the tree from outside (pytest, a staged install, the
# headers as C++) learn where it is from these two.
TEST_DIRS = -DDSHQ_SRCDIR='"$(abspath .)"' -DDSHQ_BUILDDIR='"$(abspath $(BUILD))"'
$(BUILD)/tests/%: tests/%.c tests/check.h $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  TEST    $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(TEST_DIRS) -MMD -MP -o $@ $< $(ALL_LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL)

# Benchmarks may link real peers; each bench/NAME.mk may set BENCH_LIBS_NAME.
-include $(wildcard bench/*.mk)
$(BUILD)/bench/%: bench/%.c $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  BENCH   $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(BENCH_CFLAGS_$*) -MMD -MP -o $@ $< $(ALL_LIBS) $(LDFLAGS_ALL) $(BENCH_LIBS_$*) $(LDLIBS_ALL)

tests: all $(TEST_BIN)
test: tests
	@DSHQ=$(abspath $(DSHQ)) tests/run.sh $(BUILD)/tests

san:
	$(MAKE) --no-print-directory BUILD=build/san OPT=-O1 \
	  SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test
tsan:
	$(MAKE) --no-print-directory BUILD=build/tsan OPT=-O1 SANITIZE="-fsanitize=thread" test

mutants:
	scripts/mutants.sh

test-stress: tests
	DSHQ=$(abspath $(DSHQ)) scripts/test-stress.sh $(BUILD)/tests

bench: all $(BENCH_BIN)
bench-deps:
	scripts/install-bench-deps.sh

FUZZ_CFLAGS = -std=gnu11 -g -O1 -Iinclude -Isrc -fsanitize=fuzzer,address,undefined
FUZZ_TARGETS = fuzz_region_header fuzz_checkpoint fuzz_chunk fuzz_mailbox fuzz_metrics_jsonl
FUZZ_RUN_SRC = $(LIB_SRC) $(RL_SRC) $(RUN_SRC)
fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/fuzz_region_header: fuzz/fuzz_region_header.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ -lrt -pthread
$(BUILD)/fuzz/fuzz_checkpoint: fuzz/fuzz_checkpoint.c src/run/checkpoint.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ -lm -pthread
$(BUILD)/fuzz/fuzz_chunk $(BUILD)/fuzz/fuzz_mailbox: $(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_RUN_SRC) | $(INC_LINKS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ -lm -lrt -lz -pthread
$(BUILD)/fuzz/fuzz_metrics_jsonl: fuzz/fuzz_metrics_jsonl.c src/cli/plot.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ -lm
$(BUILD)/fuzz/make_seed: fuzz/make_seed.c $(LIBDSHQ_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIBDSHQ_A) $(LDFLAGS_ALL) $(LDLIBS_ALL)
$(BUILD)/fuzz/make_seed_run: fuzz/make_seed_run.c $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(ALL_LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL)
# Each target FUZZ_SECONDS (default 60) from its seeds; corpora in fuzz/corpus
# and $(BUILD)/fuzz/corpus-run (not in git).  .ci/run: make fuzz-run FUZZ_SECONDS=30
FUZZ_SECONDS ?= 60
fuzz-run: fuzz $(BUILD)/fuzz/make_seed $(BUILD)/fuzz/make_seed_run
	@mkdir -p fuzz/corpus $(BUILD)/fuzz/corpus-run
	$(BUILD)/fuzz/make_seed fuzz/corpus
	$(BUILD)/fuzz/make_seed_run $(BUILD)/fuzz/corpus-run
	$(BUILD)/fuzz/fuzz_region_header -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
	  -print_final_stats=1 fuzz/corpus
	$(BUILD)/fuzz/fuzz_checkpoint -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -print_final_stats=1 $(BUILD)/fuzz/corpus-run/checkpoint
	$(BUILD)/fuzz/fuzz_chunk -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  -print_final_stats=1 $(BUILD)/fuzz/corpus-run/chunk
	$(BUILD)/fuzz/fuzz_mailbox -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -print_final_stats=1 $(BUILD)/fuzz/corpus-run/mailbox
	$(BUILD)/fuzz/fuzz_metrics_jsonl -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -print_final_stats=1 $(BUILD)/fuzz/corpus-run/metrics

# The fault scenarios (tests/test_chaos_run.c; the cheap ones run in `make test`).
chaos: all $(BUILD)/tests/test_chaos_run
	DSHQ=$(abspath $(DSHQ)) $(BUILD)/tests/test_chaos_run --full

# ---- install ---------------------------------------------------------------
# make install PREFIX=/usr/local DESTDIR=/tmp/stage; make uninstall (same vars).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
PUBLIC_HEADERS := $(sort $(wildcard include/dshq/*.h))
MAN1 := $(sort $(wildcard man/*.1))
MAN3 := $(sort $(wildcard man/*.3))
# dshq.pc is written at install time, so it always names this PREFIX.
install: $(DSHQ) $(LIBDSHQ_A) $(LIBDSHQ_SO) dshq.pc.in
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/dshq \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 755 $(DSHQ) $(DESTDIR)$(BINDIR)/dshq
	install -m 644 $(LIBDSHQ_A) $(DESTDIR)$(LIBDIR)/libdshq.a
	install -m 755 $(LIBDSHQ_SO_REAL) $(DESTDIR)$(LIBDIR)/libdshq.so.$(DSHQ_VERSION)
	ln -sfn libdshq.so.$(DSHQ_VERSION) $(DESTDIR)$(LIBDIR)/libdshq.so.$(DSHQ_SOMAJOR)
	ln -sfn libdshq.so.$(DSHQ_SOMAJOR) $(DESTDIR)$(LIBDIR)/libdshq.so
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/dshq/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	  -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(DSHQ_VERSION)|g' dshq.pc.in \
	  > $(DESTDIR)$(PKGCONFIGDIR)/dshq.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/dshq.pc
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dshq $(DESTDIR)$(LIBDIR)/libdshq.a \
	  $(DESTDIR)$(LIBDIR)/libdshq.so $(DESTDIR)$(LIBDIR)/libdshq.so.$(DSHQ_SOMAJOR) \
	  $(DESTDIR)$(LIBDIR)/libdshq.so.$(DSHQ_VERSION) $(DESTDIR)$(PKGCONFIGDIR)/dshq.pc \
	  $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	  $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/dshq/,$(notdir $(PUBLIC_HEADERS)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/dshq 2>/dev/null

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(BUILD)/tests $(BUILD)/bench -name '*.d' 2>/dev/null)

# The browser build: make web, test-web, bench-web (web/web.mk, docs/web.md).
include web/web.mk
