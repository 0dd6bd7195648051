# cairn — the two commands of the README, and a few more.
#   make demo     build, then a job killed with SIGKILL and resumed
#   make check    build, then the whole test suite (plus ASan+UBSan, and as
#                 an unprivileged user when run as root)
#   make install  PREFIX=/usr/local (or PREFIX=$HOME/.local without root)
BUILD ?= build
ASAN_BUILD ?= build-asan
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CTEST = ctest --output-on-failure --timeout 900

.PHONY: all build deps test-deps demo check check-local check-asan check-unprivileged install clean fuzz chaos

all: build

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --test

build: deps
	@cmake -S . -B $(BUILD) -DCAIRN_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

# The suite in this tree's build, as whoever runs it.
check-local: build test-deps
	cd $(BUILD) && $(CTEST) -j $(JOBS)

# The suite built with AddressSanitizer and UndefinedBehaviorSanitizer.
check-asan: test-deps
	@cmake -S . -B $(ASAN_BUILD) -DCAIRN_WERROR=ON -DCAIRN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && $(CTEST) -j $(JOBS) -LE no-asan

# As root: the suite again as an ordinary user, in a copy of the tree.
check-unprivileged:
	@scripts/check-unprivileged.sh

check: check-asan check-local
	@if [ "$$(id -u)" -eq 0 ]; then $(MAKE) --no-print-directory check-unprivileged; fi
	@echo "check: every suite passed"

# `make check` with two CPU-burning loops beside it, as on a busy machine
# (the tests must not depend on its speed). The loops end with it, whatever
# the result, also on Ctrl-C.
.PHONY: check-stress
check-stress:
	@sh -c 'while :; do :; done' & b1=$$!; sh -c 'while :; do :; done' & b2=$$!; \
	trap 'kill $$b1 $$b2 2>/dev/null' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	echo "check-stress: two busy loops (pids $$b1 $$b2) run beside the suite"; \
	$(MAKE) --no-print-directory check

# Longer runs than the suite's: SECONDS per fuzz target, CYCLES of chaos.
fuzz: test-deps
	tests/fuzz/run-fuzz $(or $(SECONDS),60)

chaos: build
	$(BUILD)/bin/cairn-chaos --job $(BUILD)/bin/cairn-chaos-job --cycles $(or $(CYCLES),3000)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
