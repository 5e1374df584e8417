# clew build. Variants: BUILD=release (default, -O2 -g), debug (-O0 -g),
# asan (ASan + UBSan). Everything lands in build/$(BUILD)/.
#   make                 the clew binary
#   make test            build and run every test (see scripts/test.sh)
#   make run             build, start clew serve with demo traffic
#   make unit fuzz-replay bench fuzz
#   make ui              the web UI (npm ci + esbuild) into build/ui

BUILD ?= release
CC ?= cc
OUT := build/$(BUILD)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
	-Wimplicit-fallthrough -Wno-unused-parameter
# Warnings are errors unless WERROR=0 is given.
WERROR ?= 1
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS_COMMON := -std=c17 -D_GNU_SOURCE -pthread -Isrc -MMD -MP $(WARN)
ifeq ($(BUILD),release)
CFLAGS_MODE := -O2 -g
else ifeq ($(BUILD),debug)
CFLAGS_MODE := -O0 -g3
else ifeq ($(BUILD),asan)
CFLAGS_MODE := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_MODE := -fsanitize=address,undefined
else
$(error BUILD must be release, debug or asan)
endif
CFLAGS := $(CFLAGS_COMMON) $(CFLAGS_MODE) $(EXTRA_CFLAGS)
LDFLAGS := -pthread $(LDFLAGS_MODE)
LDLIBS := -lnghttp2 -ljansson -lzstd -lz -lxxhash -lm -lcurl -lpcre2-8

LIB_SRC := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(OUT)/%.o)
UNIT_SRC := $(wildcard tests/unit/*/*.c) tests/testlib.c
UNIT_OBJ := $(UNIT_SRC:%.c=$(OUT)/%.o)
FUZZ_SRC := $(filter-out fuzz/replay_main.c,$(wildcard fuzz/*.c))
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(OUT)/fuzz/replay_%)
BENCH_LIB_SRC := $(wildcard bench/lib_*.c)
BENCH_LIB_OBJ := $(BENCH_LIB_SRC:%.c=$(OUT)/%.o)
BENCH_SRC := $(filter-out $(BENCH_LIB_SRC),$(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(OUT)/bench/%)

.PHONY: all clew unit test run fuzz-replay fuzz bench clean compdb ui
all: $(OUT)/clew ui

clew: $(OUT)/clew

$(OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libclew.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(OUT)/clew: $(OUT)/src/cli/main.o $(OUT)/libclew.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/unit_tests: $(UNIT_OBJ) $(OUT)/libclew.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/fuzz/replay_%: $(OUT)/fuzz/%.o $(OUT)/fuzz/replay_main.o $(OUT)/libclew.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/bench/%: $(OUT)/bench/%.o $(BENCH_LIB_OBJ) $(OUT)/libclew.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcurl

unit: $(OUT)/unit_tests
	$(OUT)/unit_tests

fuzz-replay: $(FUZZ_REPLAY)
	@for t in $(FUZZ_REPLAY); do n=$${t##*/replay_}; $$t fuzz/corpus/$$n || exit 1; done

bench: $(BENCH_BIN) $(OUT)/clew

# libFuzzer binaries (clang), for running the fuzzers for real:
#   make fuzz && build/fuzz/fuzz_otlp_proto fuzz/corpus/otlp_proto
# The library is compiled once (instrumented, without libFuzzer's main) into
# build/fuzz/libclew.a and each target links against it. A fuzz run stops
# at the first undefined behaviour (-fno-sanitize-recover=undefined).
FUZZ_CC := clang
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -pthread -Isrc -O1 -g -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/fuzz_%)

fuzz: $(FUZZ_BIN)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

.PRECIOUS: build/fuzz/obj/%.o

build/fuzz/libclew.a: $(FUZZ_LIB_OBJ)
	ar rcs $@ $^

build/fuzz/fuzz_%: build/fuzz/obj/fuzz/%.o build/fuzz/libclew.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

-include $(wildcard build/fuzz/obj/*/*.d build/fuzz/obj/*/*/*.d)

# The web UI: npm packages from ui/package-lock.json, bundled by esbuild.
UI_SRC := $(wildcard ui/src/*.ts ui/src/*/*.ts ui/src/*.css) ui/index.html ui/build.mjs ui/package-lock.json
ui: build/ui/index.html

build/ui/index.html: $(UI_SRC)
	@cd ui && if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error; fi && node build.mjs

test: ui
	bash scripts/test.sh

run: ui
	bash scripts/run.sh

compdb:
	bash scripts/compdb.sh

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(OUT)/src/cli/main.d
