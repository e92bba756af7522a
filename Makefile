# tlsdiag - a passive TLS handshake analyzer.
#
#   make            build build/tlsdiag
#   make deps       install missing build dependencies (Debian, apt-get)
#   make demo       deps + build + analyze the bundled key-mismatch sample
#   make check      build and run every test (SANITIZE=1: under ASan+UBSan),
#                   the suites side by side (tools/run-checks, CHECK_JOBS)
#   make bench      speed and memory against tshark etc., answers against the
#                   truth (BENCH_SIZE_MB=200 BENCH_RUNS=3; bench/README.md)
#   make install    PREFIX=/usr/local DESTDIR= : binary and man pages
#   make valgrind   every sample under valgrind memcheck (CI runs it;
#                   VALGRIND_JOBS runs at once, default: the cores)
#   make check-tsan the -j threads and nDPI's arena under ThreadSanitizer (CI runs it)
#   make golden     regenerate test/golden/ (the reports make check compares)
#                   for review: git diff test/golden
#   make fuzz       libFuzzer targets build/fuzz/fuzz-<target> (clang; the
#                   library rebuilt into build/fuzz/ with ASan+UBSan)
#   make fuzz-run   SECONDS=60: each target that long on fuzz/corpus/<target>,
#                   FUZZ_JOBS at once (default: the cores);
#                   new inputs go to build/fuzz/new/<target>, crashes to build/fuzz/
#   (make check replays every fuzz/corpus/<target> through a plain build of
#   the target, fuzz/replay.c, without libFuzzer)
#
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := libpcap libndpi libcrypto jansson
# RFC 8879 certificate compression (src/decompress.c): the three
# algorithms' decoders.
PKGS += zlib libbrotlidec libzstd
# Debian package providing each pkg-config name (used by `make deps`).
DEB_libpcap := libpcap-dev
DEB_libndpi := libndpi-dev
DEB_libcrypto := libssl-dev
DEB_jansson := libjansson-dev
DEB_zlib := zlib1g-dev
DEB_libbrotlidec := libbrotli-dev
DEB_libzstd := libzstd-dev
DEB_check := check
# Programs the build and the tests run.
DEB_TOOLS := pkg-config openssl gcc make mawk
# The Markdown report tests render it with GitHub-flavoured CommonMark
# (pipe tables are a GFM extension: plain cmark does not know them).
DEB_TOOLS += cmark-gfm
# make valgrind (and .ci/run) runs the samples under memcheck.
DEB_TOOLS += valgrind
# The tests check tlsdiag's answers against tshark's reading of the same
# captures (an independent dissector; tlsdiag itself never links it).
DEB_TOOLS += tshark

ifeq ($(SANITIZE),1)
BUILD := build/asan
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The slowest tests run their same checks on a smaller N under the
# sanitizers (test/td_test_util.h, TD_TEST_N): 100k SYNs instead of a
# million, 100 resegmentation seeds instead of 800, a third of the samples
# and corpus captures in the loops that also run tshark or python.
TEST_DEFS := -DTD_TEST_SMALL=1
# and every test's time limit is four times as long (Check's own
# multiplier): the sanitizers slow the tests by 3 to 10 times
CHECK_ENV := CK_TIMEOUT_MULTIPLIER=4
else
BUILD := build
TEST_DEFS :=
CHECK_ENV :=
SAN :=
endif

# Recursively expanded: pkg-config runs only in the recipes that need it,
# so `make deps` works before the packages are there.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS))
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
# the tests compress with the encoders (test/check_certcomp.c)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check libbrotlienc)

OPT ?= -O2 -g
# Link-time optimisation for the plain build (not the sanitizer or fuzz
# builds): the bounds-checked reader's small functions (src/reader.c) and
# the flow hash inline into every parser across files; the archive then
# needs gcc-ar (the LTO plugin). On the bulk benchmark it takes a fifth of
# the per-packet instructions (make bench; `make LTO=` builds without it).
ifeq ($(SAN),)
LTO ?= -flto=auto
endif
AR_LTO := $(if $(LTO),gcc-ar,ar)
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
TD_CFLAGS = -std=c11 -pthread $(OPT) $(LTO) $(WARN) $(SAN) -D_DEFAULT_SOURCE -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS)
TD_LDFLAGS = $(SAN) $(OPT) $(LTO) -pthread $(LDFLAGS)

# The library: every stage of the pipeline (all code but main.c).
LIB_SRCS := \
	src/error.c src/reader.c src/capture.c src/decode.c src/defrag.c src/flow.c src/reasm.c \
	src/tls.c src/decompress.c src/session.c src/fingerprint.c src/digest.c src/x509.c src/keys.c \
	src/names.c src/starttls.c src/arena.c src/classify.c src/chain.c src/engine.c src/pipeline.c src/diagnose.c src/report_util.c src/report_text.c src/report_json.c
TEST_SRCS := \
	test/check_main.c test/check_reader.c test/check_decode.c test/check_defrag.c test/check_flow.c \
	test/check_reasm.c test/check_tls.c test/check_certcomp.c test/check_arena.c test/check_names.c test/check_x509.c \
	test/check_keys.c test/check_report.c test/check_diagnose.c test/check_starttls.c test/check_chain.c test/check_hostile.c test/check_e2e.c test/check_pipeline.c test/td_test_util.c

# Live capture: dropping root after opening the interface.
LIB_SRCS += src/privdrop.c
TEST_SRCS += test/check_live.c

# The Markdown incident report (--report).
LIB_SRCS += src/report_md.c
TEST_SRCS += test/check_markdown.c

# Decryption with a key log or the server's RSA key (--keylog, --key).
LIB_SRCS += src/decrypt.c src/keylog.c src/tls_decrypt.c src/file.c src/pcapng.c
TEST_SRCS += test/check_decrypt.c
TEST_SRCS += test/check_keylog.c test/check_pcapng.c

# The rule engine (tlsdiag-rules(5)): its field table, and the built-in
# rules/default.rules compiled in.
LIB_SRCS += src/fields.c src/rules.c
# TLS inside an OpenVPN control channel over TCP.
LIB_SRCS += src/ovpn.c
TEST_SRCS += test/check_rules.c

# Where the report goes and what it promises (test/check_output.c): the
# JSON Schema, validated with python3-jsonschema (tools/validate-json).
TEST_SRCS += test/check_output.c
# --save-evidence: the frames of the failed connections (test/check_evidence.c).
TEST_SRCS += test/check_evidence.c
# --redact: pseudonyms keyed with HMAC (libcrypto).
LIB_SRCS += src/redact.c
DEB_TOOLS += python3-jsonschema

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libtlsdiag.a
BIN := $(BUILD)/tlsdiag
TEST_BIN := $(BUILD)/check_tlsdiag
# Fuzz targets fuzz/fuzz_<t>.c (STYLE.md rule 19), corpus fuzz/corpus/<t>/.
FUZZ_TARGETS := pipeline capture tls reasm x509 decode keylog rules
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/replay-%)
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SECONDS ?= 60
DATA := $(wildcard data/tls-*.csv)

.PHONY: all deps demo check check-tsan install uninstall clean fuzz fuzz-run golden valgrind
all: $(BIN)

$(BUILD)/gen/names_data.c: tools/gen-names.awk $(DATA)
	@mkdir -p $(@D)
	awk -f tools/gen-names.awk $(DATA) > $@.tmp && mv $@.tmp $@

# names.c includes the generated tables so they stay static to it.
$(BUILD)/src/names.o: $(BUILD)/gen/names_data.c

# rules.c includes the built-in rules the same way.
$(BUILD)/gen/default_rules.c: tools/gen-embed.awk rules/default.rules
	@mkdir -p $(@D)
	awk -v name=default_rules_text -f tools/gen-embed.awk rules/default.rules > $@.tmp && mv $@.tmp $@
$(BUILD)/src/rules.o: $(BUILD)/gen/default_rules.c

$(BUILD)/src/%.o: src/%.c $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(CC) $(TD_CFLAGS) -c $< -o $@

$(BUILD)/test/%.o: test/%.c $(wildcard include/*.h test/*.h)
	@mkdir -p $(@D)
	$(CC) $(TD_CFLAGS) $(CHECK_CFLAGS) $(TEST_DEFS) -Wno-missing-prototypes -c $< -o $@

$(LIB): $(LIB_OBJS)
	rm -f $@
	$(AR_LTO) rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(LIB)
	$(CC) $(TD_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(TEST_BIN): $(TEST_OBJS) $(LIB)
	$(CC) $(TD_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

check: $(BIN) $(TEST_BIN) $(FUZZ_REPLAY)
	$(CHECK_ENV) TZ=UTC TD_BIN=$(BIN) TD_SAMPLES=samples tools/run-checks $(TEST_BIN)
	@for t in $(FUZZ_TARGETS); do $(BUILD)/replay-$$t fuzz/corpus/$$t || exit 1; done

# The golden reports (test/golden/, compared by make check): regenerated
# for review, never committed by this target (tools/update-golden).
golden: $(BIN)
	tools/update-golden $(BIN)

# The threads of -j under ThreadSanitizer (CI runs it): the pipeline suite
# (both thread forms against the engine alone, tlsdiag -j 1/2/3 on every
# sample) and the arena suite (a thread building nDPI's module while another
# classifies flows) with tlsdiag and the tests built with -fsanitize=thread;
# a race stops the run (halt_on_error) and fails the test.
TSAN := -fsanitize=thread -fno-omit-frame-pointer
check-tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN='$(TSAN)' build/tsan/tlsdiag \
		build/tsan/check_tlsdiag
	TSAN_OPTIONS=halt_on_error=1 CK_RUN_SUITE=pipeline TZ=UTC TD_BIN=build/tsan/tlsdiag \
		TD_SAMPLES=samples build/tsan/check_tlsdiag
	TSAN_OPTIONS=halt_on_error=1 CK_RUN_SUITE=arena TZ=UTC TD_BIN=build/tsan/tlsdiag \
		TD_SAMPLES=samples build/tsan/check_tlsdiag

# Every sample under valgrind memcheck (errors or definite leaks fail).
valgrind: $(BIN)
	tools/valgrind-samples $(BIN)

# A fuzz target with the replay driver, or (make fuzz: this Makefile again
# with BUILD=build/fuzz, CC=clang) with libFuzzer.
$(BUILD)/replay-%: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz.h $(LIB)
	$(CC) $(TD_CFLAGS) $(TD_LDFLAGS) -o $@ $< fuzz/replay.c $(LIB) $(PKG_LIBS)

$(BUILD)/fuzz-%: fuzz/fuzz_%.c fuzz/fuzz.h $(LIB)
	$(CC) $(TD_CFLAGS) $(TD_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(PKG_LIBS)

fuzz:
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) SAN='$(FUZZ_SAN)' \
		$(FUZZ_TARGETS:%=build/fuzz/fuzz-%)

# As many targets side by side as there are cores (FUZZ_JOBS); each one's
# log is build/fuzz/<target>.log, printed whole when the target fails.
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
fuzz-run: fuzz
	@printf '%s\n' $(FUZZ_TARGETS) | xargs -P $(FUZZ_JOBS) -I{} sh -c '\
		mkdir -p build/fuzz/new/{} && \
		build/fuzz/fuzz-{} -max_total_time=$(SECONDS) -artifact_prefix=build/fuzz/ \
			build/fuzz/new/{} fuzz/corpus/{} >build/fuzz/{}.log 2>&1; rc=$$?; \
		if [ $$rc -ne 0 ]; then cat build/fuzz/{}.log; echo "fuzz-run: {} failed ($$rc)"; \
		else echo "fuzz-run: {}: $$(grep -E "^Done [0-9]+ runs" build/fuzz/{}.log)"; fi; \
		exit $$rc'

deps:
	@missing=""; \
	for p in $(PKGS) check; do \
		$(PKG_CONFIG) --exists $$p 2>/dev/null || case $$p in \
			libpcap) missing="$$missing $(DEB_libpcap)";; \
			libndpi) missing="$$missing $(DEB_libndpi)";; \
			libcrypto) missing="$$missing $(DEB_libcrypto)";; \
			jansson) missing="$$missing $(DEB_jansson)";; \
			zlib) missing="$$missing $(DEB_zlib)";; \
			libbrotlidec) missing="$$missing $(DEB_libbrotlidec)";; \
			libzstd) missing="$$missing $(DEB_libzstd)";; \
			check) missing="$$missing $(DEB_check)";; \
		esac; \
	done; \
	for t in $(DEB_TOOLS); do \
		case $$t in \
		python3-*) python3 -c "import $${t#python3-}" >/dev/null 2>&1 || missing="$$missing $$t";; \
		*) command -v $$t >/dev/null 2>&1 || missing="$$missing $$t";; \
		esac; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: everything is installed"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing

demo: deps
	@$(MAKE) --no-print-directory all
	@echo
	@echo '$$ $(BIN) -r samples/tls12-rsa-key-mismatch.pcap --key samples/keys/mismatch-real.key'
	@TZ=UTC $(BIN) -r samples/tls12-rsa-key-mismatch.pcap --key samples/keys/mismatch-real.key

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/tlsdiag
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tlsdiag
	install -m 0644 man/tlsdiag.1 $(DESTDIR)$(PREFIX)/share/man/man1/tlsdiag.1
	install -m 0644 man/tlsdiag-rules.5 $(DESTDIR)$(PREFIX)/share/man/man5/tlsdiag-rules.5
	install -m 0644 rules/default.rules $(DESTDIR)$(PREFIX)/share/tlsdiag/default.rules
	install -m 0644 schema/tlsdiag-v1.schema.json \
		$(DESTDIR)$(PREFIX)/share/tlsdiag/tlsdiag-v1.schema.json

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tlsdiag $(DESTDIR)$(PREFIX)/share/man/man1/tlsdiag.1 \
		$(DESTDIR)$(PREFIX)/share/man/man5/tlsdiag-rules.5 \
		$(DESTDIR)$(PREFIX)/share/tlsdiag/default.rules \
		$(DESTDIR)$(PREFIX)/share/tlsdiag/tlsdiag-v1.schema.json

# make bench: bench/run - tlsdiag's speed and memory as ratios to a bare
# libpcap loop and to tshark (ssldump, ndpiReader when installed), and its
# answers checked against each workload's truth (exit 1 on a mismatch).
# Workloads go to build/bench/. BENCH_SIZE_MB=200 (the mixed workload; bulk
# and handshake half of it), BENCH_RUNS=3; see bench/README.md.
BENCH_SIZE_MB ?= 200
BENCH_RUNS ?= 3
BENCH_LOOP := $(BUILD)/bench/pcap-loop
# bench/run measures peak RSS with GNU time (/usr/bin/time, package time).
DEB_TOOLS += time
.PHONY: bench
$(BENCH_LOOP): bench/pcap-loop.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror $(CFLAGS) $$($(PKG_CONFIG) --cflags libpcap) -o $@ $< $$($(PKG_CONFIG) --libs libpcap)

bench: $(BIN) $(BENCH_LOOP)
	BENCH_SIZE_MB=$(BENCH_SIZE_MB) BENCH_RUNS=$(BENCH_RUNS) TLSDIAG=$(BIN) PCAP_LOOP=$(BENCH_LOOP) bench/run

# make bench-scale: the memory and scale targets of issue #10 (peak RSS at
# BENCH_SIZE_MB and a fifth of it, and with 200, 2000 and 20000 connections
# open at once; CPU with 20000 against 200); bench/README.md. The issue's
# sizes: BENCH_SIZE_MB=1000.
.PHONY: bench-scale
bench-scale: $(BIN) $(BENCH_LOOP)
	BENCH_SCALE=1 BENCH_SIZE_MB=$(BENCH_SIZE_MB) BENCH_RUNS=$(BENCH_RUNS) TLSDIAG=$(BIN) \
		PCAP_LOOP=$(BENCH_LOOP) bench/run

# make bench-keylog: how long loading a large key log takes (--keylog,
# $SSLKEYLOGFILE), against tshark's; bench/README.md.
BENCH_KEYLOG_MB ?= 100
.PHONY: bench-keylog
bench-keylog: $(BIN) $(BENCH_LOOP)
	BENCH_KEYLOG=1 BENCH_KEYLOG_MB=$(BENCH_KEYLOG_MB) BENCH_RUNS=$(BENCH_RUNS) TLSDIAG=$(BIN) \
		PCAP_LOOP=$(BENCH_LOOP) bench/run

# make bench-live: live capture under load in a network namespace of its
# own (root, ip, tcpreplay): drops, CPU and answers against tshark's;
# bench/README.md.
.PHONY: bench-live
bench-live: $(BIN)
	BENCH_SIZE_MB=$(BENCH_SIZE_MB) BENCH_RUNS=$(BENCH_RUNS) TLSDIAG=$(BIN) bench/live

clean:
	rm -rf build
