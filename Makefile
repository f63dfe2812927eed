# mailpulse — build, test, run, bench.
#
#   make            build bin/mailpulsed and bin/mailpulse
#   make run        install deps, build, start the daemon with mailpulse.example.yaml
#   make test       install deps, build, run every Check suite and end-to-end test
#   make bench      benchmarks (never part of `make test`)
#   make SANITIZER=address|undefined|thread test   sanitizer build in its own dir
#   make WERROR=1   warnings are errors (CI sets this)
#   make CC=clang   builds clean with gcc and clang

CC ?= cc
SANITIZER ?=
WERROR ?=
PKGS := libzmq libprotobuf-c rocksdb libcurl jansson yaml-0.1 libmicrohttpd libcrypto

ifeq ($(SANITIZER),)
BUILD := build
OPT ?= -O2
else
BUILD := build-$(SANITIZER)
OPT ?= -O1
endif
BIN := $(BUILD)/bin
# The default build's programs land in ./bin as the README promises.
ifeq ($(SANITIZER),)
BIN := bin
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifneq ($(WERROR),)
WARN += -Werror
endif
SANFLAGS :=
ifneq ($(SANITIZER),)
SANFLAGS := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
ifeq ($(SANITIZER),undefined)
SANFLAGS += -fno-sanitize-recover=undefined
endif
endif

GEN := $(BUILD)/gen
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(SANFLAGS) -MMD -MP -pthread \
	-Iengine -Iingest -Ialerts -Icmd -I$(GEN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
LDFLAGS += $(SANFLAGS)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

LIB_SRCS := $(wildcard engine/*.c ingest/*.c alerts/*.c) \
	$(filter-out cmd/mailpulsed.c cmd/mailpulse.c,$(wildcard cmd/*.c))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS)) $(BUILD)/gen/mailpulse.pb-c.o
LIB := $(BUILD)/libmailpulse.a

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))
TEST_HELPER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TEST_HELPER_SRCS))

BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all deps run test check-tests bench clean
# Keep objects make would treat as intermediates (tests, benches).
.SECONDARY:
all: $(BIN)/mailpulsed $(BIN)/mailpulse

deps:
	@scripts/deps.sh

# Generated protobuf-c code: built from the .proto, never edited by hand.
$(GEN)/mailpulse.pb-c.c $(GEN)/mailpulse.pb-c.h: proto/mailpulse.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) --proto_path=proto proto/mailpulse.proto

$(BUILD)/gen/mailpulse.pb-c.o: $(GEN)/mailpulse.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(CFLAGS) $(SANFLAGS) -w -I$(GEN) -c $< -o $@

# Every object may include the generated header.
$(BUILD)/%.o: %.c $(GEN)/mailpulse.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/mailpulsed: $(BUILD)/cmd/mailpulsed.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/mailpulse: $(BUILD)/cmd/mailpulse.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p data
	./$(BIN)/mailpulsed -c mailpulse.example.yaml

# The end-to-end suites find the programs through these variables.
test: deps
	@$(MAKE) --no-print-directory check-tests

check-tests: all $(TEST_BINS)
	@MP_BIN_DIR=$(abspath $(BIN)) scripts/run-tests.sh $(TEST_BINS)

# bench_throughput drives Redis through hiredis (scripts/deps.sh --bench).
$(BUILD)/bench/bench_throughput: LDLIBS += $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)

bench:
	@scripts/deps.sh --bench
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@MP_BIN_DIR=$(abspath $(BIN)) scripts/run-bench.sh $(BUILD)/bench

# Opt-in peer: the same crossing through Prometheus + Alertmanager (Debian's,
# run from temp dirs on free loopback ports), beside bench_latency under load.
# Never part of `make test` or `make bench`. See bench/peers/run.sh.
.PHONY: bench-peers
bench-peers:
	@scripts/deps.sh --peers
	@$(MAKE) --no-print-directory all $(BUILD)/bench/bench_latency $(BUILD)/bench/peers/bench_peers
	@MP_BIN_DIR=$(abspath $(BIN)) bench/peers/run.sh $(BUILD)/bench

clean:
	rm -rf build build-* bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# libFuzzer target for the wire decoder (clang + libFuzzer runtime; see
# tests/fuzz/README.md). Not part of `make test`.
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: $(GEN)/mailpulse.pb-c.c
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iengine -Iingest \
		-Ialerts -I$(GEN) tests/fuzz/fuzz_decode.c ingest/ingest_validate.c engine/mp.c \
		engine/mp_log.c engine/eng_types.c \
		$(GEN)/mailpulse.pb-c.c $(shell pkg-config --cflags --libs libprotobuf-c) -pthread \
		-o $(BUILD)/fuzz_decode
	$(CC) -std=c11 -D_GNU_SOURCE -DFUZZ_WRITE_SEEDS -Iengine -Iingest -I$(GEN) \
		tests/fuzz/fuzz_decode.c ingest/ingest_validate.c $(GEN)/mailpulse.pb-c.c \
		$(shell pkg-config --cflags --libs libprotobuf-c) -o $(BUILD)/fuzz_seeds
	mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_seeds $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_decode -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ $(BUILD)/fuzz-corpus

# The rules file parser under libFuzzer, seeded with the example rules file
# (see tests/fuzz/README.md). Not part of `make test`.
.PHONY: fuzz-rules
fuzz-rules: $(GEN)/mailpulse.pb-c.c
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iengine -Iingest \
		-Ialerts -Icmd -I$(GEN) tests/fuzz/fuzz_rules.c $(LIB_SRCS) $(GEN)/mailpulse.pb-c.c \
		$(LDLIBS) -o $(BUILD)/fuzz_rules
	mkdir -p $(BUILD)/fuzz-rules-corpus $(BUILD)/fuzz-artifacts
	cp rules.example.yaml $(BUILD)/fuzz-rules-corpus/
	$(BUILD)/fuzz_rules -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/rules.dict \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ $(BUILD)/fuzz-rules-corpus
