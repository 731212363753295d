# bench/learner.mk — the peer of bench/learner: OpenBLAS sgemm, found when
# make runs.  Without it the OpenBLAS column prints n/a and the benchmark
# still builds; `make bench-deps` installs it (libopenblas-dev).
LEARNER_OPENBLAS := $(shell pkg-config --exists openblas 2>/dev/null && echo 1)
BENCH_CFLAGS_learner :=
BENCH_LIBS_learner :=
ifeq ($(LEARNER_OPENBLAS),1)
BENCH_CFLAGS_learner += -DHAVE_OPENBLAS=1 $(shell pkg-config --cflags openblas)
BENCH_LIBS_learner += -lopenblas
endif
