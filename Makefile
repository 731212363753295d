# DrillSergeantHQ — plain Makefile.
#
#   make            libdshq (static + shared), the RL core and the dshq tool, into build/
#   make test       build and run the whole test suite (summary: "N passed, N failed")
#   make san        the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan       the suite under ThreadSanitizer
#   make mutants    single-point protocol mutants vs the channel tests (scripts/mutants.sh)
#   make test-stress the whole suite several times beside a CPU hog (scripts/test-stress.sh)
#   make fuzz       build the libFuzzer target for region-header validation (clang)
#   make bench      build the benchmarks (peers: run `make bench-deps` once, as root)
#
# Sources are found by wildcard, one folder per layer:
#   src/transport  -> libdshq  (shared memory only; knows nothing of RL)
#   src/rl         -> librl    (environment, network, PPO; knows nothing of shared memory)
#   src/app        -> the dshq tool and the processes that glue the two together

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
SANITIZE ?=
CFLAGS_ALL = -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
             $(OPT) -g -fPIC -pthread -Iinclude -Isrc $(SANITIZE) $(EXTRA_CFLAGS)
LDFLAGS_ALL = -pthread $(SANITIZE) $(EXTRA_LDFLAGS)
LDLIBS_ALL  = -lm -lrt -lz
# Quiet by default; `make V=1` shows the full commands.
Q = $(if $(V),,@)

LIB_SRC   := $(sort $(wildcard src/transport/*.c))
RL_SRC    := $(sort $(wildcard src/rl/*.c))
APP_SRC   := $(sort $(filter-out src/app/main.c,$(wildcard src/app/*.c)))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
RL_OBJ    := $(RL_SRC:%.c=$(BUILD)/obj/%.o)
APP_OBJ   := $(APP_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

LIBDSHQ_A  := $(BUILD)/libdshq.a
LIBDSHQ_SO := $(BUILD)/libdshq.so
LIBRL_A    := $(BUILD)/librl.a
LIBAPP_A   := $(BUILD)/libdshqapp.a
DSHQ       := $(BUILD)/dshq
ALL_LIBS   := $(LIBAPP_A) $(LIBRL_A) $(LIBDSHQ_A)

.PHONY: all test san tsan fuzz fuzz-run bench bench-deps tests clean mutants test-stress
all: $(LIBDSHQ_A) $(LIBDSHQ_SO) $(LIBRL_A) $(DSHQ)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIBDSHQ_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBDSHQ_SO): $(LIB_OBJ)
	$(Q)$(CC) -shared $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)
$(LIBRL_A): $(RL_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBAPP_A): $(APP_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(DSHQ): $(BUILD)/obj/src/app/main.o $(ALL_LIBS)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/%.c tests/check.h $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  TEST    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $< $(ALL_LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL)

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
fuzz: $(BUILD)/fuzz/fuzz_region_header
$(BUILD)/fuzz/fuzz_region_header: fuzz/fuzz_region_header.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ -lrt -pthread
$(BUILD)/fuzz/make_seed: fuzz/make_seed.c $(LIBDSHQ_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIBDSHQ_A) $(LDFLAGS_ALL) $(LDLIBS_ALL)
fuzz-run: fuzz $(BUILD)/fuzz/make_seed
	@mkdir -p fuzz/corpus
	$(BUILD)/fuzz/make_seed fuzz/corpus
	$(BUILD)/fuzz/fuzz_region_header -max_total_time=$${FUZZ_SECONDS:-60} -max_len=16384 \
	  -print_final_stats=1 fuzz/corpus

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(BUILD)/tests $(BUILD)/bench -name '*.d' 2>/dev/null)
