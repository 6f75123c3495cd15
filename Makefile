# Top-level wrapper around the meson build.  Every target that builds first
# installs missing Debian packages and configures build/ when needed.

BUILD ?= build
SAN_BUILD ?= build-san
NINJA ?= ninja
# Suites the sanitizer build runs (guest boots are too slow under ASan).
SAN_SUITES ?= unit cli qmp qtest mpqemu vhost-user hostile fuzz
# libFuzzer build (clang, ASan+UBSan): make check runs each target briefly.
FUZZ_BUILD ?= build-fuzz

.PHONY: all deps check check-quick run install clean bench fuzz

all: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	./configure --builddir=$(BUILD)

$(SAN_BUILD)/build.ninja:
	./configure --builddir=$(SAN_BUILD) --enable-sanitizers --cc=clang

$(FUZZ_BUILD)/build.ninja:
	./configure --builddir=$(FUZZ_BUILD) --enable-fuzzing --enable-sanitizers

# The whole suite: every test in build/, then the sanitizer build's suites,
# then each fuzz target for a few seconds under libFuzzer.  Ends with one
# line "N passed, N failed, N skipped" over all of them.
check: all $(SAN_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	$(NINJA) -C $(SAN_BUILD)
	scripts/run-checks.sh $(BUILD) $(SAN_BUILD) "$(SAN_SUITES)" $(FUZZ_BUILD)

# The normal build's tests only (no sanitizer pass); handy while developing.
check-quick: all
	scripts/run-checks.sh $(BUILD) "" ""

run: all
	scripts/demo.sh $(BUILD)

install: all
	meson install -C $(BUILD)

bench: all
	bench/run.sh $(BUILD) $(if $(QUICK),--quick)

fuzz: deps
	scripts/run-fuzz.sh $(if $(FUZZ_SECONDS),$(FUZZ_SECONDS),60)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) build-fuzz
