# bench/rollout.mk — peers of bench/rollout, found when make runs.  A peer
# that is not installed is compiled out (its column prints n/a), so
# `make bench` works without them; `make bench-deps` installs them all.
ROLLOUT_ZMQ  := $(shell pkg-config --exists libzmq 2>/dev/null && echo 1)
ROLLOUT_NNG  := $(shell test -f /usr/include/nng/nng.h && echo 1)
ROLLOUT_CK   := $(shell test -f /usr/include/ck_ring.h && echo 1)
ROLLOUT_DPDK := $(shell pkg-config --exists libdpdk 2>/dev/null && test -f /usr/include/dpdk/rte_ring.h && echo 1)

BENCH_CFLAGS_rollout :=
BENCH_LIBS_rollout :=
ifeq ($(ROLLOUT_ZMQ),1)
BENCH_CFLAGS_rollout += -DHAVE_ZMQ=1 $(shell pkg-config --cflags libzmq)
BENCH_LIBS_rollout += $(shell pkg-config --libs libzmq)
endif
ifeq ($(ROLLOUT_NNG),1)
BENCH_CFLAGS_rollout += -DHAVE_NNG=1
BENCH_LIBS_rollout += -lnng
endif
ifeq ($(ROLLOUT_CK),1)
BENCH_CFLAGS_rollout += -DHAVE_CK=1
BENCH_LIBS_rollout += -lck
endif
ifeq ($(ROLLOUT_DPDK),1)
# rte_ring alone, without EAL: its headers (and rte_config.h), librte_ring.
BENCH_CFLAGS_rollout += -DHAVE_DPDK=1 -isystem /usr/include/dpdk \
  -isystem /usr/include/$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/dpdk \
  -include rte_config.h -msse4.2
BENCH_LIBS_rollout += -lrte_ring -lrte_eal
endif
