# mailpulse — build, test, run, bench.
#
#   make            build bin/mailpulsed and bin/mailpulse
#   make run        install deps, build, start the daemon with mailpulse.example.yaml
#   make test       install deps, build, run every Check suite and end-to-end test
#   make bench      benchmarks (never part of `make test`)
#   make SANITIZER=address|undefined|thread|address,undefined test
#                   sanitizer build in its own dir (CI runs thread, then
#                   address,undefined as one build: build/gcc-address+undefined)
#   make WERROR=1   warnings are errors (CI sets this)
#   make CC=clang   builds with clang, in a build directory of its own
#
# The house (see README, "Module map"): each folder is compiled with the
# include paths of its layer only, so an include that runs the wrong way
# fails the build:
#   base/    sees base/
#   engine/  sees base/ engine/
#   ingest/  sees base/ engine/ ingest/ and the generated proto code
#   alerts/  sees base/ engine/ alerts/
#   cmd/     (the daemon's wiring and the CLI) sees everything
# Each folder is one static library; a program links the ones it uses.

CC ?= cc
SANITIZER ?=
WERROR ?=

# One build directory per compiler and sanitizer, so `make CC=clang` after a
# gcc build really compiles with clang instead of reusing gcc's objects.
CC_KIND := $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null | head -1)),clang,gcc)
comma := ,
BUILD := build/$(CC_KIND)$(if $(SANITIZER),-$(subst $(comma),+,$(SANITIZER)))
ifeq ($(SANITIZER),)
OPT ?= -O2
else
OPT ?= -O1
endif
# The default build's programs land in ./bin as the README promises; every
# other build keeps them in its own directory.
ifeq ($(BUILD),build/gcc)
BIN := bin
else
BIN := $(BUILD)/bin
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifneq ($(WERROR),)
WARN += -Werror
endif
SANFLAGS :=
ifneq ($(SANITIZER),)
SANFLAGS := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
ifneq ($(findstring undefined,$(SANITIZER)),)
SANFLAGS += -fno-sanitize-recover=undefined
endif
endif

GEN := $(BUILD)/gen
CFLAGS ?= $(OPT) -g

# Libraries per layer; a binary links only the layers (and so the packages)
# it uses: the CLI needs no RocksDB.
ENGINE_PKGS := rocksdb
INGEST_PKGS := libzmq libprotobuf-c libxml-2.0 zlib libzip gmime-3.0
# yaml-0.1: base/mp_yaml, the config walker, is linked by the alert side's
# rules file parser (alerts/alert_rules_file) and the daemon's config.
ALERTS_PKGS := libcurl jansson libcrypto yaml-0.1
# libcares: base/mp_dnsq, the blocklist queries (the daemon's checker, `mailpulse blocklist`).
DAEMON_PKGS := libmicrohttpd libcares
CLI_PKGS := libzmq libprotobuf-c libcurl jansson libmicrohttpd libcrypto libcares
ALL_PKGS := $(sort $(ENGINE_PKGS) $(INGEST_PKGS) $(ALERTS_PKGS) $(DAEMON_PKGS) $(CLI_PKGS))
pkg_libs = $(shell pkg-config --libs $(1) 2>/dev/null)

BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(SANFLAGS) -MMD -MP -pthread \
	$(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null)
INC_base := -Ibase
INC_engine := $(INC_base) -Iengine
INC_ingest := $(INC_engine) -Iingest -I$(GEN)
INC_alerts := $(INC_engine) -Ialerts
INC_cluster := $(INC_base) -Icluster
INC_all := -Ibase -Iengine -Iingest -Ialerts -Icluster -Icmd/daemon -Icmd/cli -I$(GEN)
LDFLAGS += $(SANFLAGS)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

srcs_of = $(wildcard $(1)/*.c)
objs_of = $(patsubst %.c,$(BUILD)/%.o,$(1))
BASE_OBJS := $(call objs_of,$(call srcs_of,base))
ENGINE_OBJS := $(call objs_of,$(call srcs_of,engine))
INGEST_OBJS := $(call objs_of,$(call srcs_of,ingest)) $(BUILD)/gen/mailpulse.pb-c.o
ALERTS_OBJS := $(call objs_of,$(call srcs_of,alerts)) $(BUILD)/gen/rules_example.o
CLUSTER_OBJS := $(call objs_of,$(call srcs_of,cluster))
DAEMON_OBJS := $(call objs_of,$(filter-out cmd/daemon/mailpulsed.c,$(call srcs_of,cmd/daemon))) \
	$(BUILD)/gen/mp_ui_files.o
CLI_OBJS := $(call objs_of,$(filter-out cmd/cli/mailpulse.c,$(call srcs_of,cmd/cli)))

LIB_base := $(BUILD)/lib/libmp_base.a
LIB_engine := $(BUILD)/lib/libmp_engine.a
LIB_ingest := $(BUILD)/lib/libmp_ingest.a
LIB_alerts := $(BUILD)/lib/libmp_alerts.a
LIB_cluster := $(BUILD)/lib/libmp_cluster.a
LIB_daemon := $(BUILD)/lib/libmp_daemon.a
LIB_cli := $(BUILD)/lib/libmp_cli.a

# Link order: a library before the ones it uses.
DAEMON_LIBS := $(LIB_daemon) $(LIB_ingest) $(LIB_alerts) $(LIB_engine) $(LIB_base)
DAEMON_LDLIBS := $(call pkg_libs,$(ENGINE_PKGS) $(INGEST_PKGS) $(ALERTS_PKGS) $(DAEMON_PKGS)) -lm -pthread
CLI_LIBS := $(LIB_cli) $(LIB_ingest) $(LIB_engine) $(LIB_base)
CLI_LDLIBS := $(call pkg_libs,$(CLI_PKGS)) -lm -pthread
ALL_LIBS := $(LIB_cli) $(LIB_daemon) $(LIB_ingest) $(LIB_alerts) $(LIB_cluster) $(LIB_engine) \
	$(LIB_base)
ALL_LDLIBS := $(call pkg_libs,$(ALL_PKGS)) -lm -pthread

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))
TEST_HELPER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TEST_HELPER_SRCS))
# The example producers (see "examples" below): tests/test_e2e_producers
# runs them, so check-tests builds them. Defined here, before check-tests
# names it (a prerequisite list is expanded when its rule is read).
EXAMPLES := $(BUILD)/examples/producer $(BUILD)/examples/python/mailpulse_pb2.py

BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
# The benches share the tests' harness (daemon start, free ports, HTTP GET,
# metrics, the test receiver) instead of keeping copies of it.
BENCH_HELPER_OBJS := $(filter-out $(BUILD)/tests/check_main.o,$(TEST_HELPER_OBJS))

.PHONY: all deps run test check-tests bench clean
# Keep objects make would treat as intermediates (tests, benches).
.SECONDARY:
all: $(BIN)/mailpulsed $(BIN)/mailpulse

deps:
	@scripts/deps.sh

# Generated protobuf-c code: built from the .proto, never edited by hand.
# One grouped target (`&:`, GNU make 4.3): protoc-c writes both files in one
# run, so make runs it once, and never again after objects were compiled
# against the header (two plain targets ran it twice, the second run
# rewrote the header, and the next make recompiled everything).
$(GEN)/mailpulse.pb-c.c $(GEN)/mailpulse.pb-c.h &: proto/mailpulse.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) --proto_path=proto proto/mailpulse.proto

$(BUILD)/gen/mailpulse.pb-c.o: $(GEN)/mailpulse.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(CFLAGS) $(SANFLAGS) -w -I$(GEN) -c $< -o $@

# The default alert rules are rules.example.yaml itself, compiled in as a
# string (alert_rules_example, alerts/alert_rules_file.h) and parsed at
# start, so the defaults and the example cannot differ. Every byte is an
# octal escape: no quoting or trigraph surprises.
$(GEN)/rules_example.c: rules.example.yaml
	@mkdir -p $(GEN)
	{ echo '/* Generated from rules.example.yaml by the Makefile; do not edit. */'; \
	  echo '#include "alert_rules_file.h"'; \
	  echo 'const char alert_rules_example[] ='; \
	  od -An -v -to1 $< | sed 's/ \([0-7][0-7][0-7]\)/\\\1/g; s/^/    "/; s/$$/"/'; \
	  echo ';'; \
	  echo 'const size_t alert_rules_example_len = sizeof(alert_rules_example) - 1;'; \
	} > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/rules_example.o: $(GEN)/rules_example.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_alerts) -c $< -o $@

# The web UI (ui/, README "Web UI"): `npm ci` from ui/package-lock.json into
# build/ui (the source tree keeps no node_modules), esbuild's bundle into
# build/ui/dist, and that turned into a C table (mp_ui.h) compiled into the
# daemon. build/ui is shared by every build directory (gcc, clang, the
# sanitizers), so CI's five builds install and bundle once; it is redone
# only when a file under ui/ changes.
UI_OUT := build/ui
UI_SRCS := $(wildcard ui/src/*) ui/build.mjs ui/embed.mjs
$(UI_OUT)/node_modules/.mp-stamp: ui/package.json ui/package-lock.json
	@mkdir -p $(UI_OUT)
	cp ui/package.json ui/package-lock.json $(UI_OUT)/
	cd $(UI_OUT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
$(UI_OUT)/mp_ui_files.c: $(UI_SRCS) $(UI_OUT)/node_modules/.mp-stamp
	node ui/build.mjs $(UI_OUT)/dist $(UI_OUT)
	node ui/embed.mjs $(UI_OUT)/dist $@
$(BUILD)/gen/mp_ui_files.o: $(UI_OUT)/mp_ui_files.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_all) -c $< -o $@

# One compile rule per layer, each with that layer's include paths.
define layer_rule
$(BUILD)/$(1)/%.o: $(1)/%.c $(GEN)/mailpulse.pb-c.h
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASE_CFLAGS) $$(INC_$(2)) -c $$< -o $$@
endef
$(eval $(call layer_rule,base,base))
$(eval $(call layer_rule,engine,engine))
$(eval $(call layer_rule,ingest,ingest))
$(eval $(call layer_rule,alerts,alerts))
$(eval $(call layer_rule,cluster,cluster))
$(eval $(call layer_rule,cmd,all))
$(eval $(call layer_rule,tests,all))
$(eval $(call layer_rule,bench,all))

$(BUILD)/lib/libmp_%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^
$(LIB_base): $(BASE_OBJS)
$(LIB_engine): $(ENGINE_OBJS)
$(LIB_ingest): $(INGEST_OBJS)
$(LIB_alerts): $(ALERTS_OBJS)
$(LIB_cluster): $(CLUSTER_OBJS)
$(LIB_daemon): $(DAEMON_OBJS)
$(LIB_cli): $(CLI_OBJS)

$(BIN)/mailpulsed: $(BUILD)/cmd/daemon/mailpulsed.o $(DAEMON_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(DAEMON_LDLIBS)

$(BIN)/mailpulse: $(BUILD)/cmd/cli/mailpulse.o $(CLI_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CLI_LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPER_OBJS) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(ALL_LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BENCH_HELPER_OBJS) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(ALL_LDLIBS)
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p data
	@echo "mailpulse: starting mailpulsed (Ctrl-C stops it). Next, in a second terminal:"
	@echo "    bin/mailpulse demo"
	@echo "and open http://127.0.0.1:7480/ui/ (the web UI; see README, Web UI)"
	./$(BIN)/mailpulsed -c mailpulse.example.yaml

# The end-to-end suites find the programs through these variables.
test: deps
	@$(MAKE) --no-print-directory check-tests

check-tests: all $(TEST_BINS) $(EXAMPLES)
	@MP_BIN_DIR=$(abspath $(BIN)) MP_EXAMPLES_DIR=$(abspath $(BUILD)/examples) \
		MP_ARTEFACTS_DIR=$(abspath $(BUILD))/artefacts \
		MP_SRC_DIR=$(CURDIR) scripts/run-tests.sh $(TEST_BINS)

# bench_throughput drives Redis through hiredis (scripts/deps.sh --bench).
$(BUILD)/bench/bench_throughput: ALL_LDLIBS += $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)

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

# ---- examples (examples/, the README's producer guide) --------------------
# examples/producer.c against the generated protobuf-c code, and the Python
# producer's mailpulse_pb2.py generated by protoc into the build directory
# (never committed); EXAMPLES is defined with the tests above.
.PHONY: examples
examples: $(EXAMPLES)
$(BUILD)/examples/producer: examples/producer.c $(BUILD)/gen/mailpulse.pb-c.o $(GEN)/mailpulse.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -I$(GEN) -o $@ examples/producer.c $(BUILD)/gen/mailpulse.pb-c.o \
		$(LDFLAGS) $(call pkg_libs,libzmq libprotobuf-c)
$(BUILD)/examples/python/mailpulse_pb2.py: proto/mailpulse.proto
	@mkdir -p $(dir $@)
	protoc --python_out=$(dir $@) --proto_path=proto proto/mailpulse.proto

# ---- install (packaging/, man/) -------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=]: the two programs, the config
# and rules under $(PREFIX)/etc/mailpulse, the systemd unit and the man
# pages. The installed config is mailpulse.example.yaml with data_dir at
# /var/lib/mailpulse (an absolute path: a relative one would be resolved
# next to the config, under etc/) and the rules file named, so the unit
# runs as it is; existing config files are kept (an operator's edits).
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= $(PREFIX)/etc/mailpulse
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
STATEDIR ?= /var/lib/mailpulse
INSTALL ?= install

$(BUILD)/packaging/mailpulse.yaml: mailpulse.example.yaml
	@mkdir -p $(dir $@)
	sed -e 's|^data_dir: ./data$$|data_dir: $(STATEDIR)|' \
	    -e 's|^# rules: rules.example.yaml$$|rules: rules.yaml|' $< > $@.tmp
	grep -q '^data_dir: $(STATEDIR)$$' $@.tmp && grep -q '^rules: rules.yaml$$' $@.tmp
	mv $@.tmp $@
$(BUILD)/packaging/mailpulse.service: packaging/mailpulse.service.in
	@mkdir -p $(dir $@)
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    -e 's|@STATEDIR@|$(STATEDIR)|g' $< > $@

.PHONY: install
install: all $(BUILD)/packaging/mailpulse.yaml $(BUILD)/packaging/mailpulse.service
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 755 $(BIN)/mailpulsed $(BIN)/mailpulse $(DESTDIR)$(PREFIX)/bin/
	$(INSTALL) -m 644 mailpulse.example.yaml rules.example.yaml $(DESTDIR)$(SYSCONFDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/mailpulse.yaml || \
		$(INSTALL) -m 644 $(BUILD)/packaging/mailpulse.yaml $(DESTDIR)$(SYSCONFDIR)/mailpulse.yaml
	test -e $(DESTDIR)$(SYSCONFDIR)/rules.yaml || \
		$(INSTALL) -m 644 rules.example.yaml $(DESTDIR)$(SYSCONFDIR)/rules.yaml
	$(INSTALL) -m 644 $(BUILD)/packaging/mailpulse.service $(DESTDIR)$(UNITDIR)/
	$(INSTALL) -m 644 man/mailpulse.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 man/mailpulsed.8 $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf build build-* bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# libFuzzer targets (clang + libFuzzer runtime; see tests/fuzz/README.md).
# Not part of `make test`. Each runs for FUZZ_SECONDS from its committed
# seed corpus (tests/fuzz/corpus/<target>, read only: libFuzzer writes what
# it finds to the first directory, in build/, and crashes to
# build/<cc>/fuzz-artifacts/). -max_len is above the largest seed, so the
# large seeds (frames at and over the limits, 100k-level nesting) are fuzzed
# whole instead of cut to libFuzzer's default.
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 1100000
FUZZ_RULES_MAX_LEN ?= 262144
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE
# The decoder target runs the worker's whole per-frame pipeline (shape,
# limits, decode, validate, record into a table): ingest, engine and base.
FUZZ_DECODE_SRCS := $(wildcard ingest/*.c engine/*.c base/*.c) $(GEN)/mailpulse.pb-c.c
FUZZ_DECODE_LIBS = $(call pkg_libs,$(ENGINE_PKGS) $(INGEST_PKGS) $(ALERTS_PKGS) libcares) -lm -pthread
FUZZ_RULES_SRCS := $(wildcard base/*.c engine/*.c alerts/*.c) $(GEN)/rules_example.c
FUZZ_RULES_LIBS = $(call pkg_libs,$(ENGINE_PKGS) $(ALERTS_PKGS) libcares) -lm -pthread
# The events file parser of `mailpulse replay`: pure, so it links only
# itself and the engine's name and type tables.
FUZZ_EVF_SRCS := cmd/cli/cli_events_file.c engine/eng_name.c engine/eng_types.c
FUZZ_EVF_MAX_LEN ?= 65536

$(BUILD)/fuzz_decode: tests/fuzz/fuzz_decode.c $(FUZZ_DECODE_SRCS)
	clang $(FUZZ_CFLAGS) $(INC_ingest) $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null) \
		$^ $(FUZZ_DECODE_LIBS) -o $@
$(BUILD)/fuzz_rules: tests/fuzz/fuzz_rules.c $(FUZZ_RULES_SRCS)
	clang $(FUZZ_CFLAGS) $(INC_alerts) $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null) \
		$^ $(FUZZ_RULES_LIBS) -o $@

# The ESP webhook body parsers (ingest/ingest_adapt.h): pure, so they link
# only themselves, the name grammar and the address checks.
FUZZ_ADAPT_SRCS := $(wildcard ingest/ingest_adapt*.c) ingest/ingest_validate.c \
	engine/eng_name.c engine/eng_types.c base/mp_buf.c
FUZZ_ADAPT_MAX_LEN ?= 65536

$(BUILD)/fuzz_adapt: tests/fuzz/fuzz_adapt.c $(FUZZ_ADAPT_SRCS) $(GEN)/mailpulse.pb-c.h
	clang $(FUZZ_CFLAGS) $(INC_ingest) $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null) \
		tests/fuzz/fuzz_adapt.c $(FUZZ_ADAPT_SRCS) $(call pkg_libs,jansson libcrypto libprotobuf-c) -o $@

# The blocklist answers (base/mp_dnsq.h): c-ares' parsers and what is read from them.
FUZZ_DNSQ_MAX_LEN ?= 4096
$(BUILD)/fuzz_dnsq: tests/fuzz/fuzz_dnsq.c base/mp_dnsq.c
	clang $(FUZZ_CFLAGS) $(INC_base) $^ $(call pkg_libs,libcares) -pthread -o $@

$(BUILD)/fuzz_events_file: tests/fuzz/fuzz_events_file.c $(FUZZ_EVF_SRCS)
	clang $(FUZZ_CFLAGS) $(INC_all) $(shell pkg-config --cflags jansson 2>/dev/null) \
		$^ $(call pkg_libs,jansson) -o $@

# The DMARC aggregate report reader (ingest/ingest_dmarc.h): XML, gzip,
# zip and mail messages, seeded with tests/fixtures/dmarc (each prefixed
# with its flag byte: tests/fuzz/corpus/dmarc).
FUZZ_DMARC_SRCS := ingest/ingest_dmarc.c ingest/ingest_dmarc_unwrap.c
FUZZ_DMARC_MAX_LEN ?= 262144
$(BUILD)/fuzz_dmarc: tests/fuzz/fuzz_dmarc.c $(FUZZ_DMARC_SRCS)
	clang $(FUZZ_CFLAGS) $(INC_ingest) $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null) \
		$^ $(call pkg_libs,libxml-2.0 zlib libzip gmime-3.0) -pthread -o $@

# The daemon's config file (cmd/daemon/mp_config.h and every section under
# it): links the daemon's modules but its main.
FUZZ_CONFIG_SRCS := $(filter-out cmd/daemon/mailpulsed.c,$(wildcard cmd/daemon/*.c)) \
	$(wildcard base/*.c engine/*.c ingest/*.c alerts/*.c) $(GEN)/mailpulse.pb-c.c \
	$(GEN)/rules_example.c $(UI_OUT)/mp_ui_files.c
FUZZ_CONFIG_MAX_LEN ?= 65536
$(BUILD)/fuzz_config: tests/fuzz/fuzz_config.c $(FUZZ_CONFIG_SRCS)
	clang $(FUZZ_CFLAGS) $(INC_all) $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null) \
		$^ $(call pkg_libs,$(ALL_PKGS)) -lm -pthread -o $@

# The tenant routes' query parameters (stats, series, alerts/history) over
# a real table and alerts store: links the daemon's modules but its main.
$(BUILD)/fuzz_query: tests/fuzz/fuzz_query.c $(FUZZ_CONFIG_SRCS)
	clang $(FUZZ_CFLAGS) $(INC_all) $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null) \
		$^ $(call pkg_libs,$(ALL_PKGS)) -lm -pthread -o $@

# The web UI's file lookup (cmd/daemon/mp_ui.h): the path and If-None-Match.
$(BUILD)/fuzz_ui: tests/fuzz/fuzz_ui.c cmd/daemon/mp_ui.c cmd/daemon/mp_http.c $(UI_OUT)/mp_ui_files.c
	clang $(FUZZ_CFLAGS) $(INC_all) $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null) \
		$^ $(wildcard base/*.c) $(call pkg_libs,libmicrohttpd jansson yaml-0.1) -lm -pthread -o $@

.PHONY: fuzz fuzz-rules fuzz-events-file fuzz-adapt fuzz-dnsq fuzz-dmarc fuzz-ui fuzz-config fuzz-query fuzz-seeds
fuzz: $(BUILD)/fuzz_decode
	mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_decode -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ $(BUILD)/fuzz-corpus tests/fuzz/corpus/decode

# The rules file parser (alert_rules_parse and the YAML walker under it,
# depth limit included). It links the alert side only (base, engine,
# alerts, with the alerts layer's include paths): no cmd/, no ingest/.
fuzz-rules: $(BUILD)/fuzz_rules
	mkdir -p $(BUILD)/fuzz-rules-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_rules -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_RULES_MAX_LEN) \
		-dict=tests/fuzz/rules.dict -artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-rules-corpus tests/fuzz/corpus/rules

# The events file parser (cmd/cli/cli_events_file.h): JSON Lines and CSV.
fuzz-events-file: $(BUILD)/fuzz_events_file
	mkdir -p $(BUILD)/fuzz-events-file-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_events_file -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_EVF_MAX_LEN) \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-events-file-corpus tests/fuzz/corpus/events_file

# The adapters' body parsers, seeded with the fixtures (each prefixed with
# its type byte: tests/fuzz/corpus/adapt).
fuzz-adapt: $(BUILD)/fuzz_adapt
	mkdir -p $(BUILD)/fuzz-adapt-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_adapt -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_ADAPT_MAX_LEN) \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-adapt-corpus tests/fuzz/corpus/adapt

# The DNS answers of the blocklist checks, seeded with real replies
# (tests/fuzz/corpus/dnsq: listed, 127.255.255.254, TXT, NXDOMAIN).
fuzz-dnsq: $(BUILD)/fuzz_dnsq
	mkdir -p $(BUILD)/fuzz-dnsq-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_dnsq -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_DNSQ_MAX_LEN) \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-dnsq-corpus tests/fuzz/corpus/dnsq

fuzz-dmarc: $(BUILD)/fuzz_dmarc
	mkdir -p $(BUILD)/fuzz-dmarc-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_dmarc -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_DMARC_MAX_LEN) \
		-dict=tests/fuzz/dmarc.dict -artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-dmarc-corpus tests/fuzz/corpus/dmarc

# The web UI's lookup, seeded with the names and tags it must tell apart.
fuzz-config: $(BUILD)/fuzz_config
	mkdir -p $(BUILD)/fuzz-config-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_config -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_CONFIG_MAX_LEN) \
		-dict=tests/fuzz/config.dict -artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-config-corpus tests/fuzz/corpus/config

fuzz-query: $(BUILD)/fuzz_query
	mkdir -p $(BUILD)/fuzz-query-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_query -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ $(BUILD)/fuzz-query-corpus tests/fuzz/corpus/query

fuzz-ui: $(BUILD)/fuzz_ui
	mkdir -p $(BUILD)/fuzz-ui-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz_ui -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ $(BUILD)/fuzz-ui-corpus tests/fuzz/corpus/ui

# Rewrites the committed seed corpora from their generators (the fuzz
# targets built with -DFUZZ_WRITE_SEEDS) and rules.example.yaml. Run it
# after a change to a generator, and commit the result.
fuzz-seeds: $(GEN)/mailpulse.pb-c.c
	$(CC) -std=c11 -D_GNU_SOURCE -DFUZZ_WRITE_SEEDS $(INC_ingest) \
		tests/fuzz/fuzz_decode.c $(FUZZ_DECODE_SRCS) $(FUZZ_DECODE_LIBS) -o $(BUILD)/fuzz_seeds
	$(CC) -std=c11 -D_GNU_SOURCE -DFUZZ_WRITE_SEEDS tests/fuzz/fuzz_rules.c \
		-o $(BUILD)/fuzz_rules_seeds
	mkdir -p tests/fuzz/corpus/decode tests/fuzz/corpus/rules
	$(BUILD)/fuzz_seeds tests/fuzz/corpus/decode
	$(BUILD)/fuzz_rules_seeds tests/fuzz/corpus/rules
	cp rules.example.yaml tests/fuzz/corpus/rules/example.yaml
