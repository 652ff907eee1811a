# evsnn — one plain Makefile. `make demo` and `make test` are all a newcomer types:
# both first run `make deps`, which installs the missing Debian packages.
#
#   make            build bin/evsnn (release)
#   make test       unit, reference, integration tests; last line "N passed, N failed"
#   make asan       the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks, one JSON line per workload
#   make fuzz       libFuzzer harnesses, a short run each (FUZZ_SECONDS=10)
#   make demo       build and run the main job on a default workload
#   make install PREFIX=/usr/local
#   make MPI=1      build against OpenMPI (mpicc) for scale-out

# Build variables are computed in sub-makes, after `deps` has installed pkg-config and
# the libraries, so a fresh machine gets the right flags on the first run.
DEB_PKGS := build-essential pkg-config libevent-dev libhdf5-dev hdf5-tools libgsl-dev zlib1g-dev \
            libcmocka-dev libmatio-dev libconfig-dev gnuplot-nox clang libclang-rt-14-dev \
            openmpi-bin libopenmpi-dev
PKGS := libevent hdf5-serial gsl zlib matio libconfig
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BUILD ?= build/release
PREFIX ?= /usr/local
MPI ?= 0
ifeq ($(MPI),1)
CC := mpicc
BUILD := build/mpi
endif

OPT ?= -O3 -g
OMPFLAGS ?= -fopenmp
SANFLAGS ?=
CFLAGS_ALL = -std=c11 $(OPT) -ffp-contract=off -Wall -Wextra -Werror -D_GNU_SOURCE -I. $(OMPFLAGS) $(SANFLAGS) \
             -DEVSNN_MPI=$(MPI) $(shell pkg-config --cflags $(PKGS) cmocka 2>/dev/null) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm $(OMPFLAGS) $(SANFLAGS)

LIB_SRC   := $(sort $(wildcard sim/*.c kernels/*.c io/*.c hw/*.c))
APP_SRC   := $(sort $(wildcard apps/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
BENCH_SRC := $(sort $(wildcard tests/bench_*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
APP_OBJ  := $(APP_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libevsnn.a
EVSNN    := $(if $(filter build/release,$(BUILD)),bin/evsnn,$(BUILD)/bin/evsnn)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES  := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps build test check asan bench bench-run demo demo-run fuzz fuzz-run clean install tests-build
all: build

# Everything that needs pkg-config flags runs in a sub-make (see above).
build:
	@$(MAKE) --no-print-directory $(EVSNN)

deps:
	@command -v dpkg-query >/dev/null 2>&1 || { echo "make deps: not a Debian system; install: $(DEB_PKGS)"; exit 0; }; \
	missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing missing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null || exit 1; \
	else echo "make deps: all Debian packages present"; fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(EVSNN): $(APP_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $(APP_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL) $(shell pkg-config --libs cmocka 2>/dev/null)

tests-build: $(EVSNN) $(TESTS) $(BENCHES)

test: deps
	@$(MAKE) --no-print-directory check

check: tests-build
	@EVSNN_BIN=$(EVSNN) sh tests/run.sh $(BUILD)/tests

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	  SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" check

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-run: $(EVSNN) $(BENCHES)
	@for b in $(BENCHES); do EVSNN_BIN=$(EVSNN) $$b || exit 1; done

fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT="-O1 -g" OMPFLAGS= \
	  EXTRA_CFLAGS="-Wno-unknown-pragmas" SANFLAGS="-fsanitize=address,undefined" fuzz-run

FUZZERS := $(FUZZ_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZ_SECONDS ?= 10
$(BUILD)/tests/fuzz_%: tests/fuzz_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS_ALL)

fuzz-run: $(FUZZERS)
	@for f in $(FUZZERS); do echo "fuzz: $$f ($(FUZZ_SECONDS) s)"; \
	  mkdir -p $(BUILD)/corpus/$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 $(BUILD)/corpus/$$(basename $$f) tests/corpus/$$(basename $$f) 2>&1 | tail -n 2 || exit 1; done

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: $(EVSNN)
	@sh data/demo.sh $(EVSNN)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/evsnn
	install -m 755 bin/evsnn $(DESTDIR)$(PREFIX)/bin/evsnn
	cp -r data/. $(DESTDIR)$(PREFIX)/share/evsnn/

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(TESTS:=.d) $(BENCHES:=.d)
