# SPDX-License-Identifier: MIT
# cairn — the two commands of the README, and a few more.
#   make demo     build, then a job killed with SIGKILL and resumed
#   make check    build, then the whole test suite (plus ASan+UBSan, and as
#                 an unprivileged user when run as root), and the install
#   make install  PREFIX=/usr/local (or PREFIX=$HOME/.local without root)
#   make check-tsan  the unit tests built with ThreadSanitizer (not in check)
#   make dist     the relocatable bundle (zstd, xxhash, sodium linked in):
#                 build-dist/cairn-VERSION-linux-ARCH.tar.gz
#   make deb      the Debian packages in build-deb/ (dpkg-buildpackage)
# make, make demo and make install need only the build dependencies and do
# not use -Werror; the check targets build in their own trees with -Werror
# and the test suite, and install the test dependencies (scripts/deps.sh).
BUILD ?= build
CHECK_BUILD ?= build-check
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
DIST_BUILD ?= build-dist
DEB_BUILD ?= build-deb
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CTEST = ctest --output-on-failure --timeout 900

.PHONY: all build check-build deps test-deps demo check check-local check-asan check-tsan \
	check-unprivileged check-install check-packaging install clean fuzz chaos dist deb

all: build

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --test

build: deps
	@cmake -S . -B $(BUILD) -DCAIRN_WERROR=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The tree the suite runs in: -Werror, and the suite required (cmocka).
check-build: test-deps
	@cmake -S . -B $(CHECK_BUILD) -DCAIRN_WERROR=ON -DCAIRN_TESTS=ON -DCAIRN_FORTRAN=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(CHECK_BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

# The suite in this tree's build, as whoever runs it.
check-local: check-build
	cd $(CHECK_BUILD) && $(CTEST) -j $(JOBS)

# The suite built with AddressSanitizer and UndefinedBehaviorSanitizer.
check-asan: test-deps
	@cmake -S . -B $(ASAN_BUILD) -DCAIRN_WERROR=ON -DCAIRN_TESTS=ON -DCAIRN_FORTRAN=ON -DCAIRN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && $(CTEST) -j $(JOBS) -LE no-asan

# The unit tests built with ThreadSanitizer (libcairn's pruning thread and
# its users). Not part of check.
check-tsan: test-deps
	@cmake -S . -B $(TSAN_BUILD) -DCAIRN_WERROR=ON -DCAIRN_TESTS=ON -DCAIRN_TSAN=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && $(CTEST) -j $(JOBS) -L unit

# As root: the suite again as an ordinary user, in a copy of the tree.
check-unprivileged:
	@scripts/check-unprivileged.sh

# make install into a scratch prefix, and the installed cairn and cairn.pc.
check-install: build test-deps
	@scripts/check-install.sh $(BUILD)

# The .debs and the bundle, built and used (root; part of check-local too).
check-packaging: check-build
	cd $(CHECK_BUILD) && $(CTEST) -L packaging

check: check-asan check-local check-install
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

chaos: check-build
	$(CHECK_BUILD)/bin/cairn-chaos --job $(CHECK_BUILD)/bin/cairn-chaos-job --cycles $(or $(CYCLES),3000)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Relocatable: runs from any directory, on nodes without libzstd, libxxhash
# and libsodium (packaging/dist.sh).
dist: deps
	@packaging/dist.sh $(DIST_BUILD)

# libcairn0, libcairn-dev, cairn (python3-cairn with python/):
# dpkg-buildpackage -b -us -uc from a copy of the tree (packaging/deb-build.sh).
deb: test-deps
	@packaging/deb-build.sh $(DEB_BUILD)

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(DIST_BUILD) $(DEB_BUILD)
