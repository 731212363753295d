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
