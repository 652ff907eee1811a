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
#   make install PREFIX=/usr/local   the command, libevsnn.a/.so, headers, evsnn.pc, man
#                   pages, bash completion (LIBRARY.md)
#   make MPI=1      build against OpenMPI (mpicc) for scale-out

# Build variables are computed in sub-makes, after `deps` has installed pkg-config and
# the libraries, so a fresh machine gets the right flags on the first run.
# DEB_PKGS are needed to build and test; DEB_OPT are optional pieces (the fuzz compiler,
# MPI, the Fashion-MNIST demo data): where one cannot be installed, `make deps` says so and
# goes on, and the fuzz build, the MPI test and the demo do without it. clang's fuzzer
# runtime is the libclang-rt-N-dev of the installed clang's major version N (falling back to
# Debian's libclang-rt-dev, which follows the default clang), so no Debian release is pinned.
DEB_PKGS := build-essential pkg-config libevent-dev libhdf5-dev hdf5-tools libgsl-dev zlib1g-dev \
            libcmocka-dev libmatio-dev libconfig-dev liblz4-dev libzstd-dev libjansson-dev gnuplot-nox \
            help2man python3-h5py python3-numpy
DEB_OPT  := clang openmpi-bin libopenmpi-dev dataset-fashion-mnist
PKGS := libevent hdf5-serial gsl zlib matio libconfig liblz4 libzstd jansson
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VERSION := 0.1.0
SOVERSION := 0

BUILD ?= build/release
PREFIX ?= /usr/local
MPI ?= 0
ifeq ($(MPI),1)
# override: a `make MPI=1` started from inside another build (tests/test_sweep_mpi.sh under
# `make asan`) must not take that build's BUILD from the command line and mix its objects.
override CC := mpicc
override BUILD := build/mpi
CC_NOMPI := $(shell mpicc --showme:command 2>/dev/null || echo cc)
else
CC_NOMPI = $(CC)
endif

OPT ?= -O3 -g
OMPFLAGS ?= -fopenmp
SANFLAGS ?=
CFLAGS_BASE = -std=c11 $(OPT) -ffp-contract=off -fno-trapping-math -fno-math-errno -Wall -Wextra -Werror -D_GNU_SOURCE -I. $(OMPFLAGS) $(SANFLAGS) \
             -DEVSNN_MPI=$(MPI) -DEVSNN_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(filter-out $(WALLED_PKGS),$(PKGS)) cmocka 2>/dev/null)
CF_HDF5  = $(shell pkg-config --cflags hdf5-serial matio 2>/dev/null)
CF_EVENT = $(shell pkg-config --cflags libevent 2>/dev/null)
# Links, tests, fuzzers and data/ tools: every flag.
CFLAGS_ALL = $(CFLAGS_BASE) $(CF_HDF5) $(CF_EVENT) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm $(OMPFLAGS) $(SANFLAGS)

# ---- the walls: a library's compile flags reach only the files that may use it, and every
# other object is compiled with a generated header (-include $(BUILD)/walls/no-X.h) that
# poisons a few of the library's names, so a stray #include of hdf5.h, an event2/ header or
# mpi.h outside its module fails to compile (even where the header sits on the default
# path). Lists of files or patterns; adjust them when a file moves between modules.
# libmatio, HDF5-backed and read by io/rd_svhn.c only, stands behind the HDF5 wall (its
# pkg-config flags name an HDF5 include directory). Tests and data/ tools reach everything.
WALL_HDF5  := io/%
WALL_EVENT := io/live_server.c
WALL_MPI   := sim/comm.c
WALL_FREE  := tests/% data/%
WALLED_PKGS := hdf5-serial matio libevent
WALL_DIR   := $(BUILD)/walls
WALL_HDRS  := $(WALL_DIR)/no-hdf5.h $(WALL_DIR)/no-libevent.h $(WALL_DIR)/no-mpi.h
# $(call obj_cflags,SRC): the compile flags of one source file
obj_cflags = $(CFLAGS_BASE) \
  $(if $(filter $(WALL_HDF5) $(WALL_FREE),$1),$(CF_HDF5),-include $(WALL_DIR)/no-hdf5.h) \
  $(if $(filter $(WALL_EVENT) $(WALL_FREE),$1),$(CF_EVENT),-include $(WALL_DIR)/no-libevent.h) \
  $(if $(filter $(WALL_MPI) $(WALL_FREE),$1),,-include $(WALL_DIR)/no-mpi.h) $(EXTRA_CFLAGS)
# $(call obj_cc,SRC): only the MPI module is compiled by mpicc (MPI=1); the rest by the
# compiler it wraps, without MPI's include path. The link uses $(CC) (mpicc) throughout.
obj_cc = $(if $(filter $(WALL_MPI),$1),$(CC),$(CC_NOMPI))

LIB_SRC   := $(sort $(wildcard sim/*.c kernels/*.c io/*.c hw/*.c))
APP_SRC   := $(sort $(wildcard apps/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
BENCH_SRC := $(sort $(wildcard tests/bench_*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
APP_OBJ  := $(APP_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libevsnn.a
SONAME   := libevsnn.so.$(SOVERSION)
SOLIB    := $(BUILD)/libevsnn.so.$(VERSION)
PIC_OBJ  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
# Public headers (installed under include/evsnn/, LIBRARY.md); the internal ones stay here.
PUB_HDR  := $(filter-out io/ds_impl.h io/h5util.h io/lcfg.h io/replace.h kernels/simd.h kernels/rowblock.h,\
              $(sort $(wildcard sim/*.h kernels/*.h io/*.h hw/*.h)))
EVSNN    := $(if $(filter build/release,$(BUILD)),bin/evsnn,$(BUILD)/bin/evsnn)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES  := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)
GEN_SYNTH := $(BUILD)/data/gen_synth

.PHONY: all deps build test check asan bench bench-run demo demo-run temporal temporal-run fuzz fuzz-run fuzz-long \
        fuzz-long-run clean install install-run tests-build lib man
all: build

# Everything that needs pkg-config flags runs in a sub-make (see above).
build:
	@$(MAKE) --no-print-directory $(EVSNN)

deps:
	@command -v dpkg-query >/dev/null 2>&1 || { echo "make deps: not a Debian system; install: $(DEB_PKGS) (optional: $(DEB_OPT))"; exit 0; }; \
	have() { dpkg-query -W -f='$${Status}\n' "$$1" 2>/dev/null | grep -q 'ok installed'; }; \
	updated=0; update() { [ $$updated = 1 ] || $(SUDO) apt-get update -qq; updated=1; }; \
	inst() { DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq "$$@" >/dev/null; }; \
	missing=$$(for p in $(DEB_PKGS); do have $$p || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing missing Debian packages:" $$missing; update; inst $$missing || exit 1; fi; \
	for p in $(DEB_OPT); do have $$p && continue; update; \
	  inst $$p 2>/dev/null && echo "make deps: installed $$p" || echo "make deps: optional $$p could not be installed; going on without it"; done; \
	if command -v clang >/dev/null 2>&1; then \
	  major=$$(clang -dumpversion | cut -d. -f1); rt=libclang-rt-$$major-dev; \
	  if ! have $$rt; then update; \
	    if apt-cache show $$rt >/dev/null 2>&1; then inst $$rt && echo "make deps: installed $$rt (clang $$major)"; \
	    else have libclang-rt-dev || inst libclang-rt-dev || echo "make deps: no fuzzer runtime for clang $$major (make fuzz will skip)"; fi; fi; fi; \
	echo "make deps: Debian packages present"

$(BUILD)/%.o: %.c | $(WALL_HDRS)
	@mkdir -p $(dir $@)
	$(call obj_cc,$<) $(call obj_cflags,$<) -MMD -MP -c $< -o $@

# The shared library is built from position-independent copies of the objects, so the
# static library and bin/evsnn keep the non-PIC code the benchmarks measure.
$(BUILD)/pic/%.o: %.c | $(WALL_HDRS)
	@mkdir -p $(dir $@)
	$(call obj_cc,$<) $(call obj_cflags,$<) -fPIC -MMD -MP -c $< -o $@

# The walls' headers (see WALL_HDF5 above): each poisons names its library's headers
# declare, so including one of those headers is an error ("attempt to use poisoned").
# kept once made (an intermediate would be deleted after the build and remade by the next,
# whose objects, which depend on it, would all be recompiled)
.PRECIOUS: $(WALL_DIR)/no-%.h
$(WALL_DIR)/no-%.h:
	@mkdir -p $(dir $@)
	@printf '%s\n' '/* Generated by the Makefile (the walls): this file is outside the module that may use $*' \
	  ' * (Makefile: WALL_HDF5, WALL_EVENT, WALL_MPI). */' \
	  '#pragma GCC poison $(WALL_NAMES_$*)' >$@
WALL_NAMES_hdf5     := H5open H5Fopen H5Fcreate H5Dopen2 H5Gopen2 H5Aopen
WALL_NAMES_libevent := event_base_new evhttp_new evbuffer_new bufferevent_socket_new evconnlistener_new evutil_socketpair
WALL_NAMES_mpi      := MPI_Init MPI_Finalize MPI_Comm_rank MPI_Allreduce

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SOLIB): $(PIC_OBJ)
	$(CC) $(CFLAGS_ALL) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $@ $^ $(LDLIBS_ALL)
	ln -sf $(notdir $@) $(BUILD)/$(SONAME) && ln -sf $(SONAME) $(BUILD)/libevsnn.so

lib:
	@$(MAKE) --no-print-directory $(LIB) $(SOLIB)

$(EVSNN): $(APP_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $(APP_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL) $(shell pkg-config --libs cmocka 2>/dev/null)

# The benchmarks print their lines with the commands' JSON conventions (tests/benchjson.h).
BENCH_APP_OBJ := $(BUILD)/apps/json.o
$(BENCHES): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BENCH_APP_OBJ) $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BENCH_APP_OBJ) $(LIB) $(LDLIBS_ALL) $(shell pkg-config --libs cmocka 2>/dev/null)

tests-build: $(EVSNN) $(TESTS) $(BENCHES) $(GEN_SYNTH) $(SOLIB) $(MANS)

test: deps
	@$(MAKE) --no-print-directory check

check: tests-build
	@EVSNN_BIN=$(EVSNN) EVSNN_BUILD=$(BUILD) EVSNN_OPT="$(OPT)" EVSNN_SANFLAGS="$(SANFLAGS)" sh tests/run.sh $(BUILD)/tests

asan: deps
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	  SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" check

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-run: $(EVSNN) $(BENCHES)
	@for b in $(BENCHES); do EVSNN_BIN=$(EVSNN) $$b || exit 1; done

# Any sanitizer report fails (no recovery from UBSan either): a harness that only logs a
# report would pass the run. The fuzz build needs clang with its libFuzzer runtime (make deps
# installs the one that matches the installed clang); without them it says so and skips.
FUZZ_MAKE = $(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT="-O1 -g" OMPFLAGS= \
	  EXTRA_CFLAGS="-Wno-unknown-pragmas -Wno-unknown-attributes" \
	  SANFLAGS="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all"
FUZZ_PROBE = if ! command -v clang >/dev/null 2>&1; then echo "make fuzz: skipped: clang is not installed (make deps installs it)"; exit 0; fi; \
	probe=$$(mktemp -d); \
	printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >$$probe/p.c; \
	if ! clang -fsanitize=fuzzer,address,undefined -o $$probe/p $$probe/p.c >/dev/null 2>&1; then rm -rf $$probe; \
	  echo "make fuzz: skipped: clang $$(clang -dumpversion) cannot link -fsanitize=fuzzer (install libclang-rt-$$(clang -dumpversion | cut -d. -f1)-dev)"; exit 0; fi; \
	rm -rf $$probe
fuzz: deps
	@$(FUZZ_PROBE); $(FUZZ_MAKE) fuzz-run

# The long campaign: every harness until 10 M executions or 10 minutes, whichever comes
# first (libFuzzer's -runs and -max_total_time), from the CI run's corpus on. One line per
# harness in build/fuzz/fuzz-long.txt: name, executions, seconds, executions/s. For a quiet
# machine: it takes up to 10 minutes × the number of harnesses.
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_SECONDS ?= 600
fuzz-long: deps
	@$(FUZZ_PROBE); $(FUZZ_MAKE) fuzz-long-run

FUZZERS := $(FUZZ_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZ_SECONDS ?= 10
# libFuzzer's -seed: 0 lets it pick one (a new path each run); CI fixes it, so that its
# short pass is the same on every run and a failure it reports can be replayed.
FUZZ_SEED ?= 0
# fuzz_specs also reads the dataset options through the command's own parser (cmd_data.o).
FUZZ_APP_OBJ := $(BUILD)/apps/cmd_data.o $(BUILD)/apps/json.o $(BUILD)/apps/gnuplot.o
$(BUILD)/tests/fuzz_%: tests/fuzz_%.c $(FUZZ_APP_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(FUZZ_APP_OBJ) $(LIB) $(LDLIBS_ALL)

fuzz-run: $(FUZZERS)
	@for f in $(FUZZERS); do echo "fuzz: $$f ($(FUZZ_SECONDS) s)"; \
	  mkdir -p $(BUILD)/corpus/$$(basename $$f); \
	  log=$(BUILD)/corpus/$$(basename $$f).log; \
	  if ! ASAN_OPTIONS=suppressions=tests/asan.supp LSAN_OPTIONS=suppressions=tests/lsan.supp $$f -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -rss_limit_mb=2048 \
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

# ---- install (LIBRARY.md): the command, the libraries (static, and shared with a soname),
# the public headers under include/evsnn/, evsnn.pc, man pages made by help2man from each
# command's --help, bash completion, data/.
MANDIR ?= $(PREFIX)/share/man
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
MAN_CMDS := run init data train eval hw sweep plot serve replay
MANS := $(BUILD)/man/evsnn.1 $(MAN_CMDS:%=$(BUILD)/man/evsnn-%.1)

man:
	@$(MAKE) --no-print-directory $(MANS)
$(BUILD)/man/evsnn.1: $(EVSNN)
	@mkdir -p $(dir $@)
	help2man --no-info --no-discard-stderr --name="event-driven spiking neural network simulator, trainer and accelerator model" \
	  --output=$@ $(EVSNN)
$(BUILD)/man/evsnn-%.1: $(EVSNN)
	@mkdir -p $(dir $@)
	help2man --no-info --no-discard-stderr --help-option="$* --help" --version-option=--version \
	  --name="evsnn $*: $$($(EVSNN) --help | sed -n 's/^  $* *//p')" --output=$@ $(EVSNN)
	sed -i -e "s/^\.TH EVSNN /.TH EVSNN-$$(echo $* | tr a-z A-Z) /" -e 's/^evsnn \\- evsnn $*: /evsnn-$* \\- /' $@

install: deps
	@$(MAKE) --no-print-directory install-run
install-run: $(EVSNN) $(LIB) $(SOLIB) $(MANS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/evsnn $(DESTDIR)$(LIBDIR)/pkgconfig \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(EVSNN) $(DESTDIR)$(PREFIX)/bin/evsnn
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libevsnn.a
	install -m 755 $(SOLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SOLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME) && ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libevsnn.so
	for h in include/evsnn/evsnn.h $(PUB_HDR); do d=$(DESTDIR)$(INCDIR)/evsnn/$$(dirname $${h#include/evsnn/}); \
	  install -d $$d && install -m 644 $$h $$d/; done
	@# evsnn.pc is written for this PREFIX every time (never a stale one from another install)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
	  'Name: evsnn' 'Description: event-driven spiking neural network simulator, trainer and accelerator model' \
	  'Version: $(VERSION)' 'Requires.private: $(PKGS)' 'Cflags: -I$${includedir} -I$${includedir}/evsnn' \
	  'Libs: -L$${libdir} -levsnn' 'Libs.private: -lm $(OMPFLAGS)' >$(DESTDIR)$(LIBDIR)/pkgconfig/evsnn.pc
	install -m 644 $(MANS) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 data/completion.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/evsnn
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

-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(TESTS:=.d) $(BENCHES:=.d) $(GEN_SYNTH).d
