# capsift: the two set-up commands are `make demo` and `make test`; both install what is
# missing first (scripts/install-deps.sh), then build with CMake + Ninja.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
DEMO_CAPTURE = tests/captures/pcapplusplus--http-packets.pcap

.PHONY: all deps build demo test test-asan fuzz check-format format bench install clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@ninja -C $(BUILD)

demo: build
	@echo '$$ capsift info $(DEMO_CAPTURE)'
	@$(BUILD)/capsift info $(DEMO_CAPTURE)
	@echo '$$ capsift flows --sort bytes --top 5 $(DEMO_CAPTURE)'
	@CAPSIFT_NO_CACHE=1 $(BUILD)/capsift flows --sort bytes --top 5 $(DEMO_CAPTURE)
	@echo '$$ capsift stats --top 3 $(DEMO_CAPTURE)'
	@CAPSIFT_NO_CACHE=1 $(BUILD)/capsift stats --top 3 $(DEMO_CAPTURE)
	@echo '$$ capsift timeline --by app --flagged --svg demo-timeline.svg tests/captures/zeek--206_example_b.pcap'
	@$(BUILD)/capsift timeline --by app --flagged --force --svg $(BUILD)/demo-timeline.svg \
		tests/captures/zeek--206_example_b.pcap
	@echo '(the chart: $(BUILD)/demo-timeline.svg)'
	@echo '$$ capsift meta tests/captures/dpkt--http.pcap'
	@CAPSIFT_NO_CACHE=1 $(BUILD)/capsift meta tests/captures/dpkt--http.pcap
	@rm -f $(BUILD)/demo.db $(BUILD)/demo.db-wal $(BUILD)/demo.db-shm
	@echo '$$ capsift index --db demo.db tests/captures'
	@$(BUILD)/capsift index --db $(BUILD)/demo.db -q tests/captures || true
	@echo "$$ capsift query --db demo.db --group-by app --sort bytes --limit 5 'tcp'"
	@$(BUILD)/capsift query --db $(BUILD)/demo.db --group-by app --sort bytes --limit 5 'tcp'
	@echo "$$ capsift query --db demo.db 'dns *.googlesyndication.com or uri contains download'"
	@$(BUILD)/capsift query --db $(BUILD)/demo.db 'dns *.googlesyndication.com or uri contains download'

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSIFT_SANITIZE=ON \
		-DSIFT_WERROR=ON -DSIFT_BENCH=OFF $(CMAKE_ARGS) >/dev/null
	@ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# libFuzzer targets (clang), the library instrumented too: see CONTRIBUTING.md, "Fuzzing".
fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIFT_FUZZ=ON \
		-DSIFT_TESTS=OFF -DSIFT_BENCH=OFF $(CMAKE_ARGS) >/dev/null
	@ninja -C $(FUZZ_BUILD) $$(cd fuzz && ls fuzz_*.c | sed 's/\.c$$//')

check-format:
	@files=$$(git ls-files '*.c' '*.h'); clang-format --dry-run -Werror $$files

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

bench: build
	bench/run.sh

# PREFIX=/usr/local by default; DESTDIR for staged installs
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
