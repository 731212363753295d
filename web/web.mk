# web.mk — the browser build, included by the Makefile (docs/web.md).
#
#   make web        the C core (transport, rl, run, src/web) with Emscripten:
#                   pthreads (Web Workers over one shared memory) and wasm
#                   SIMD, into web/dist/ beside the page's files
#   make test-web   the wasm tests under node (channels, env determinism,
#                   checkpoints both ways with the native build) and the page
#                   in headless chromium (scripts/install-web-deps.sh first)
#   make bench-web  the browser build's speeds beside the native build's
#
# Emscripten is Debian's (3.1.6); it needs NODE_PATH=/usr/share/nodejs.
EMCC       ?= emcc
export NODE_PATH ?= /usr/share/nodejs
WASM       := $(BUILD)/wasm
WEB_DIST   := web/dist
WASM_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
              -O3 -g0 -pthread -msimd128
# One memory for everything (the run's region is a block of it); no growth,
# which would cost every thread a view refresh.  Roles are pthreads: a pool
# of Web Workers made at start, more on demand.
WASM_LDFLAGS = -pthread -sINITIAL_MEMORY=512MB -sALLOW_MEMORY_GROWTH=0 \
               -sPTHREAD_POOL_SIZE=4 -sDEFAULT_PTHREAD_STACK_SIZE=2MB -sTOTAL_STACK=2MB \
               -sEXIT_RUNTIME=0 -lm
WEB_LDFLAGS = $(WASM_LDFLAGS) -sMODULARIZE=1 -sEXPORT_NAME=createDshq \
              -sENVIRONMENT=web,worker,node \
              -sEXPORTED_RUNTIME_METHODS=ccall,cwrap,FS,UTF8ToString

WASM_LIB_OBJ := $(LIB_SRC:%.c=$(WASM)/obj/%.o)
WASM_RL_OBJ  := $(RL_SRC:%.c=$(WASM)/obj/%.o)
WASM_RUN_OBJ := $(RUN_SRC:%.c=$(WASM)/obj/%.o)
WASM_CORE    := $(WASM_LIB_OBJ) $(WASM_RL_OBJ) $(WASM_RUN_OBJ)
WEB_SRC      := $(sort $(wildcard src/web/*.c))
WEB_STATIC   := $(sort $(wildcard web/*.html web/*.js web/*.css))

$(WASM)/obj/src/transport/%.o: src/transport/%.c | $(INC_LINKS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  EMCC    $<")
	$(Q)$(EMCC) $(WASM_CFLAGS) $(INC_transport) -MMD -MP -c $< -o $@
$(WASM)/obj/src/rl/%.o: src/rl/%.c | $(INC_LINKS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  EMCC    $<")
	$(Q)$(EMCC) $(WASM_CFLAGS) $(INC_rl) -MMD -MP -c $< -o $@
$(WASM)/obj/src/run/%.o: src/run/%.c | $(INC_LINKS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  EMCC    $<")
	$(Q)$(EMCC) $(WASM_CFLAGS) $(INC_run) -MMD -MP -c $< -o $@
$(WASM)/obj/src/web/%.o: src/web/%.c | $(INC_LINKS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  EMCC    $<")
	$(Q)$(EMCC) $(WASM_CFLAGS) -Iinclude -Isrc -MMD -MP -c $< -o $@
$(WASM)/libcore.a: $(WASM_CORE)
	$(Q)rm -f $@ && emar rcs $@ $^

$(WEB_DIST)/dshq.js: $(WEB_SRC:%.c=$(WASM)/obj/%.o) $(WASM)/libcore.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(EMCC) $(WEB_LDFLAGS) -o $@ $^

.PHONY: web test-web bench-web
web: $(WEB_DIST)/dshq.js
	@echo "web: $(WEB_DIST)/ (dshq.js, dshq.wasm, dshq.worker.js) built; serve web/ with 'build/dshq serve'"

-include $(shell find $(WASM)/obj -name '*.d' 2>/dev/null)

# ---- tests: C tests that use threads (not processes), as wasm under node
WASM_TESTS   := test_weights_threads test_lane_threads test_mpsc_threads test_mailbox_threads \
                test_mailbox_basic test_env_determinism test_env_mirror test_checkpoint_roundtrip \
                test_run_threads test_run_deterministic
WASM_TEST_LDFLAGS = -pthread -sINITIAL_MEMORY=512MB -sPTHREAD_POOL_SIZE=8 -sEXIT_RUNTIME=1 \
                    -sPROXY_TO_PTHREAD -sENVIRONMENT=node,worker -lm
WASM_TEST_JS := $(WASM_TESTS:%=$(WASM)/tests/%.js) $(WASM)/tests/wasm_wait.js $(WASM)/tests/env_trace.js

$(WASM)/tests/test_%.js: tests/test_%.c tests/check.h $(WASM)/libcore.a
	@mkdir -p $(dir $@)
	@echo "  EMCC    $@"
	$(Q)$(EMCC) $(WASM_CFLAGS) -Iinclude -Isrc -Itests -o $@ $< $(WASM)/libcore.a $(WASM_TEST_LDFLAGS)
$(WASM)/tests/wasm_wait.js: tests/web/wasm_wait.c tests/check.h $(WASM)/libcore.a
	@mkdir -p $(dir $@)
	@echo "  EMCC    $@"
	$(Q)$(EMCC) $(WASM_CFLAGS) -Iinclude -Isrc -Itests -o $@ $< $(WASM)/libcore.a $(WASM_TEST_LDFLAGS)
# The env fingerprint with the kickoff's trigonometry made portable (the
# only libm difference: tests/web/portable_trig.h, docs/env.md).
$(WASM)/env_portable.o: src/rl/env.c tests/web/portable_trig.h | $(INC_LINKS)
	@mkdir -p $(dir $@)
	$(Q)$(EMCC) $(WASM_CFLAGS) $(INC_rl) -include tests/web/portable_trig.h -c $< -o $@
$(WASM)/env_portable_native.o: src/rl/env.c tests/web/portable_trig.h | $(INC_LINKS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_rl) -include tests/web/portable_trig.h -c $< -o $@
$(WASM)/tests/env_trace.js: tests/web/env_trace.c $(WASM)/env_portable.o $(WASM)/libcore.a
	@mkdir -p $(dir $@)
	$(Q)$(EMCC) $(WASM_CFLAGS) -Iinclude -Isrc -o $@ $< $(WASM)/env_portable.o $(WASM)/libcore.a -sENVIRONMENT=node -sEXIT_RUNTIME=1 -sINITIAL_MEMORY=64MB -pthread
$(WASM)/env_trace_native: tests/web/env_trace.c $(WASM)/env_portable_native.o $(LIBRL_A)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(WASM)/env_portable_native.o $(LIBRL_A) -lm

test-web: all web $(WASM_TEST_JS) $(WASM)/env_trace_native
	@tests/web/run.sh $(BUILD) $(WASM_TESTS) wasm_wait

# ---- bench: tests/web/bench_core.c natively, as wasm under node and in chromium
$(WEB_DIST)/bench.js: tests/web/bench_core.c $(WASM)/libcore.a
	@mkdir -p $(dir $@)
	@echo "  EMCC    $@"
	$(Q)$(EMCC) $(WASM_CFLAGS) -Iinclude -Isrc -o $@ $< $(WASM)/libcore.a -pthread -sINITIAL_MEMORY=256MB \
	  -sPTHREAD_POOL_SIZE=2 -sPROXY_TO_PTHREAD -sEXIT_RUNTIME=1 -sENVIRONMENT=web,worker,node -lm
$(BUILD)/web/bench_core: tests/web/bench_core.c $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(ALL_LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL)

bench-web: all web $(WEB_DIST)/bench.js $(BUILD)/web/bench_core
	@node tests/web/bench_web.js $(BUILD)
