# evsnn — one plain Makefile. `make demo` and `make test` are all a newcomer types:
# both first run `make deps`, which installs the missing Debian packages.
#
#   make            build bin/evsnn (release)
#   make test       unit, reference, integration tests; last line "N passed, N failed"
#   make asan       the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks, one JSON line per workload
#   make fuzz       libFuzzer harnesses, a short run each (FUZZ_SECONDS=10)
#   make fuzz-long  each harness to 10 M executions or 10 minutes; table in build/fuzz/fuzz-long.txt
#   make demo       build and run the main job on a default workload
#   make temporal   seed 004 §4.1, the spike-timing task four ways, and its figure (10 s)
#   make install PREFIX=/usr/local
#   make MPI=1      build against OpenMPI (mpicc) for scale-out

# Build variables are computed in sub-makes, after `deps` has installed pkg-config and
# the libraries, so a fresh machine gets the right flags on the first run.
DEB_PKGS := build-essential pkg-config libevent-dev libhdf5-dev hdf5-tools libgsl-dev zlib1g-dev \
            libcmocka-dev libmatio-dev libconfig-dev liblz4-dev libzstd-dev gnuplot-nox clang libclang-rt-14-dev \
            openmpi-bin libopenmpi-dev python3-h5py \
            dataset-fashion-mnist
PKGS := libevent hdf5-serial gsl zlib matio libconfig liblz4 libzstd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BUILD ?= build/release
PREFIX ?= /usr/local
MPI ?= 0
ifeq ($(MPI),1)
# override: a `make MPI=1` started from inside another build (tests/test_sweep_mpi.sh under
# `make asan`) must not take that build's BUILD from the command line and mix its objects.
override CC := mpicc
override BUILD := build/mpi
endif

OPT ?= -O3 -g
OMPFLAGS ?= -fopenmp
SANFLAGS ?=
CFLAGS_ALL = -std=c11 $(OPT) -ffp-contract=off -fno-trapping-math -Wall -Wextra -Werror -D_GNU_SOURCE -I. $(OMPFLAGS) $(SANFLAGS) \
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
GEN_SYNTH := $(BUILD)/data/gen_synth

.PHONY: all deps build test check asan bench bench-run demo demo-run temporal temporal-run fuzz fuzz-run fuzz-long fuzz-long-run clean install tests-build
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

tests-build: $(EVSNN) $(TESTS) $(BENCHES) $(GEN_SYNTH)

test: deps
	@$(MAKE) --no-print-directory check

check: tests-build
	@EVSNN_BIN=$(EVSNN) sh tests/run.sh $(BUILD)/tests

asan: deps
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	  SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" check

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-run: $(EVSNN) $(BENCHES)
	@for b in $(BENCHES); do EVSNN_BIN=$(EVSNN) $$b || exit 1; done

# Any sanitizer report fails (no recovery from UBSan either): a harness that only logs a
# report would pass the run.
FUZZ_MAKE = $(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT="-O1 -g" OMPFLAGS= \
	  EXTRA_CFLAGS="-Wno-unknown-pragmas -Wno-unknown-attributes" \
	  SANFLAGS="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all"
fuzz: deps
	@$(FUZZ_MAKE) fuzz-run

# The long campaign: every harness until 10 M executions or 10 minutes, whichever comes
# first (libFuzzer's -runs and -max_total_time), from the CI run's corpus on. One line per
# harness in build/fuzz/fuzz-long.txt: name, executions, seconds, executions/s. For a quiet
# machine: it takes up to 10 minutes × the number of harnesses.
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_SECONDS ?= 600
fuzz-long: deps
	@$(FUZZ_MAKE) fuzz-long-run

FUZZERS := $(FUZZ_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZ_SECONDS ?= 10
# fuzz_specs also reads the dataset options through the command's own parser (cmd_data.o).
FUZZ_APP_OBJ := $(BUILD)/apps/cmd_data.o $(BUILD)/apps/json.o
$(BUILD)/tests/fuzz_%: tests/fuzz_%.c $(FUZZ_APP_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(FUZZ_APP_OBJ) $(LIB) $(LDLIBS_ALL)

fuzz-run: $(FUZZERS)
	@for f in $(FUZZERS); do echo "fuzz: $$f ($(FUZZ_SECONDS) s)"; \
	  mkdir -p $(BUILD)/corpus/$$(basename $$f); \
	  log=$(BUILD)/corpus/$$(basename $$f).log; \
	  if ! ASAN_OPTIONS=suppressions=tests/asan.supp LSAN_OPTIONS=suppressions=tests/lsan.supp $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	       -artifact_prefix=$(BUILD)/corpus/ $(BUILD)/corpus/$$(basename $$f) tests/corpus/$$(basename $$f) >$$log 2>&1; \
	  then tail -n 40 $$log; echo "fuzz: $$f FAILED (log: $$log)"; exit 1; fi; tail -n 1 $$log; done

fuzz-long-run: $(FUZZERS)
	@out=$(BUILD)/fuzz-long.txt; printf '%-22s %12s %8s %10s\n' harness executions seconds exec/s >$$out.tmp; \
	for f in $(FUZZERS); do h=$$(basename $$f); echo "fuzz-long: $$h (≤ $(FUZZ_LONG_RUNS) runs, ≤ $(FUZZ_LONG_SECONDS) s)"; \
	  mkdir -p $(BUILD)/corpus/$$h; log=$(BUILD)/corpus/$$h.long.log; t0=$$(date +%s); \
	  if ! ASAN_OPTIONS=suppressions=tests/asan.supp LSAN_OPTIONS=suppressions=tests/lsan.supp $$f -runs=$(FUZZ_LONG_RUNS) -max_total_time=$(FUZZ_LONG_SECONDS) \
	       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(BUILD)/corpus/ \
	       $(BUILD)/corpus/$$h tests/corpus/$$h >$$log 2>&1; \
	  then tail -n 40 $$log; echo "fuzz-long: $$h FAILED (log: $$log)"; exit 1; fi; \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); s=$$(( $$(date +%s) - t0 )); \
	  printf '%-22s %12s %8s %10s\n' $$h $$runs $$s $$(( runs / (s ? s : 1) )) | tee -a $$out.tmp; done; \
	mv $$out.tmp $$out; cat $$out

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: $(EVSNN)
	@sh data/demo.sh $(EVSNN)

temporal: deps
	@$(MAKE) --no-print-directory temporal-run
temporal-run: $(EVSNN)
	@sh data/temporal.sh $(EVSNN)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/evsnn
	install -m 755 bin/evsnn $(DESTDIR)$(PREFIX)/bin/evsnn
	cp -r data/. $(DESTDIR)$(PREFIX)/share/evsnn/

# ---- datasets (io/README.md). The built-in synthetic sets are generated; the real ones
# are downloaded from their publishers with curl (large; never run by tests or CI).
$(GEN_SYNTH): $(BUILD)/data/gen_synth.o $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)

.PHONY: synth synth-run download-shd download-gesture download-nmnist
synth: deps
	@$(MAKE) --no-print-directory synth-run
synth-run: $(GEN_SYNTH)
	$(GEN_SYNTH) data/synth

DATASETS ?= datasets
UNZIP = sh -c 'command -v unzip >/dev/null && unzip -q -o "$$0" -d "$$1" || python3 -m zipfile -e "$$0" "$$1"'
download-shd:  # Spiking Heidelberg Digits (Cramer et al. 2020), ~0.5 GB unpacked
	mkdir -p $(DATASETS)/shd
	cd $(DATASETS)/shd && curl -fL -O https://zenkelab.org/datasets/md5sums.txt && \
	  for f in shd_train.h5.gz shd_test.h5.gz; do curl -fL -C - -O https://zenkelab.org/datasets/$$f; done && \
	  grep -E ' shd_(train|test)\.h5\.gz$$' md5sums.txt | md5sum -c - && gunzip -kf shd_train.h5.gz shd_test.h5.gz
download-gesture:  # DVS128 Gesture (Amir et al. 2017), ~2.7 GB; the publisher's copy is IBM Box (browser only)
	mkdir -p $(DATASETS)
	cd $(DATASETS) && curl -fL -C - -o DvsGesture.tar.gz 'https://www.dropbox.com/s/cct5kyilhtsliup/DvsGesture.tar.gz?dl=1' && \
	  tar xzf DvsGesture.tar.gz
download-nmnist:  # N-MNIST (Orchard et al. 2015) from Mendeley Data, doi:10.17632/468j46mzdv.1, ~1 GB
	mkdir -p $(DATASETS)/nmnist
	cd $(DATASETS)/nmnist && \
	  curl -fL -C - -o Train.zip https://data.mendeley.com/public-files/datasets/468j46mzdv/files/39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded && \
	  echo '20959b8e626244a1b502305a9e6e2031  Train.zip' | md5sum -c - && \
	  curl -fL -C - -o Test.zip https://data.mendeley.com/public-files/datasets/468j46mzdv/files/05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded && \
	  $(UNZIP) Train.zip . && $(UNZIP) Test.zip .

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(TESTS:=.d) $(BENCHES:=.d) $(GEN_SYNTH).d
