# mcp-mtls build. `make test` is all a fresh Debian 12 machine needs: missing packages are
# installed first (apt-get; sudo when not root).
SHELL := /bin/bash
.DEFAULT_GOAL := all
# Compile on every core unless told otherwise (once, at the top: sub-makes share its jobs).
ifeq ($(MAKELEVEL),0)
  ifeq ($(filter -j%,$(MAKEFLAGS)),)
    MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
  endif
endif
MAKEFLAGS += --no-print-directory
# Quiet by default: one short line per step ("CXX pki/verify/verifier.cpp"); make V=1 shows commands.
V ?= 0
ifeq ($(V),1)
  Q :=
  say :=
else
  Q := @
  say = @printf '  %-5s %s\n' $(1) $(2);
endif

DEBIAN_PACKAGES := g++ make pkg-config libbotan-2-dev libcpp-httplib-dev nlohmann-json3-dev \
                   catch2 libspdlog-dev libssl-dev libhowardhinnant-date-dev tzdata openssl curl \
                   ca-certificates psmisc procps python3 sslscan libengine-pkcs11-openssl p11-kit-modules \
                   libp11-kit-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEPS_STAMP := build/.deps-installed

# Which packages are missing is decided when the recipe runs, so the stamp is only a shortcut.
# $(call install_missing,PACKAGES) installs those of PACKAGES that are not installed yet.
define install_missing
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mkdir -p $(@D) && touch $@
endef

# Also after the Makefile changed, as the test packages below (the pkcs11 engine came later).
$(DEPS_STAMP): Makefile
	$(call install_missing,$(DEBIAN_PACKAGES))

deps: $(DEPS_STAMP)
.PHONY: deps

# What only the tests need: Go (certificate and CSR generators for interop tests, stdlib only),
# Python's cryptography (certificates as its defaults make them) and PyYAML (the deployment
# manifests are checked as YAML). And npm, for the official MCP SDK as a host of `client bridge`
# and for the conformance suite (scripts/mcp-sdk-setup.sh and ../shared/conformance install them
# with it; so does scripts/oidc-provider-setup.sh, the pinned node-oidc-provider that the OAuth
# tests run as their authorization server): Debian's package only when no npm is there, since a Node.js from elsewhere (such as
# NodeSource's) brings its own and conflicts with it. HAProxy: replicas behind a TCP load balancer.
TEST_PACKAGES := golang-go python3-cryptography python3-yaml haproxy softhsm2 opensc
TEST_DEPS_STAMP := build/.test-deps-installed
# Also after the Makefile changed: a package added to the list gets installed on existing checkouts.
$(TEST_DEPS_STAMP): $(DEPS_STAMP) Makefile
	@command -v npm >/dev/null || { echo "installing Debian packages: npm"; $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	$(call install_missing,$(TEST_PACKAGES))

# ---------------------------------------------------------------------------------------------
# Flags. pkg-config runs lazily (=), after deps are installed.
CXX ?= g++
MODE ?= release
PKGS := botan-2 cpp-httplib spdlog nlohmann_json openssl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldate-tz

WARN := -Wall -Wextra -Werror -Wno-deprecated-declarations
ifeq ($(MODE),sanitize)
  BUILD := build/sanitize
  # GCC 12 reports false maybe-uninitialized warnings inside libstdc++ <regex> under ASan.
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -Wno-maybe-uninitialized
  LDOPT := -fsanitize=address,undefined
  BINDIR := build/sanitize/bin
else ifeq ($(MODE),fuzz)
  # libFuzzer needs clang; the library is instrumented for coverage, the targets link the driver.
  CXX := clang++
  BUILD := build/fuzz
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  LDOPT := -fsanitize=address,undefined
  BINDIR := build/fuzz/bin
else ifeq ($(MODE),tsan)
  BUILD := build/tsan
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
  LDOPT := -fsanitize=thread
  BINDIR := build/tsan/bin
else
  BUILD := build/release
  # Line tables only (-g1): backtraces, perf and sanitizer reports name functions and lines, at
  # about half the compile time of full debug information; make DEBUG_INFO=-g for a debugger.
  DEBUG_INFO ?= -g1
  # What Debian builds its packages with (dpkg-buildflags): these are daemons that face the
  # network, and lintian checks the package for it.
  OPT := -O2 $(DEBUG_INFO) -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection -fcf-protection
  LDOPT := -Wl,-z,relro -Wl,-z,now
  BINDIR := bin
endif

# ccache when it is installed: a clean rebuild, or a second checkout beside this one, reuses the
# objects. Paths are made relative to the folder above the checkout (debug info included), so
# checkouts side by side share one cache.
CCACHE := $(shell command -v ccache 2>/dev/null)
ifneq ($(CCACHE),)
  export CCACHE_BASEDIR ?= $(abspath $(CURDIR)/..)
endif
DEBUG_PREFIX := -fdebug-prefix-map=$(CURDIR)=.

CXXFLAGS_ALL = -std=c++17 $(OPT) $(DEBUG_PREFIX) $(WARN) -MMD -MP -Iinclude -I. -isystem /usr/include/botan-2 \
               $(filter-out -I/usr/include/botan-2,$(PKG_CFLAGS)) -DUSE_OS_TZDB=1 -DHAS_STRING_VIEW=1 $(CXXFLAGS)
LDFLAGS_ALL = $(LDOPT) $(LDFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread

# ---------------------------------------------------------------------------------------------
# Layers, lowest first: one static library each, holding every .cpp of the layer's folder but
# the programs' main.cpp. A layer may include only the headers of the layers it lists in
# LAYER_DEPS (make check-layers enforces it), and is linked before them.
LAYERS := common pki tls mcp server services client
LAYER_DEPS_common   := common
LAYER_DEPS_pki      := common pki
LAYER_DEPS_tls      := common pki tls
LAYER_DEPS_mcp      := common pki tls mcp
LAYER_DEPS_server   := common pki tls mcp server
LAYER_DEPS_services := common pki tls mcp server services
LAYER_DEPS_client   := common pki tls mcp client
layer_lib = $(BUILD)/lib$(1).a
# The libraries a program of layer $(1) links, in link order (dependents first).
libs_of = $(foreach l,$(filter $(LAYER_DEPS_$(1)),client services server mcp tls pki common),$(call layer_lib,$(l)))

# Unity builds (release mode; UNITY=0 turns them off): a layer's files are compiled in batches of
# UNITY_BATCH, each batch one translation unit that includes them, because most of a file's
# compile time goes to the headers and templates it shares with its neighbours (nlohmann/json,
# spdlog, cpp-httplib, Botan): a cold build of the demo takes about half the time. The batch files
# live in build/unity-src/ and are rewritten only when the batch's members change. Sanitizer and
# clang (fuzz) builds compile file by file, so a file that misses an include still fails there.
UNITY ?= $(if $(filter release,$(MODE)),1,0)
UNITY_BATCH ?= 14
UNITY_SRC := build/unity-src
# $(call unity_batches,LAYER,SOURCES): writes $(UNITY_SRC)/LAYER/unity-K.cpp for K = 1, 2, ...
# (only when its text changes) and names them.
unity_batches = $(shell mkdir -p $(UNITY_SRC)/$(1) && k=0 && printf '%s\n' $(2) | xargs -n $(UNITY_BATCH) | \
  while read -r members; do k=$$((k + 1)); f=$(UNITY_SRC)/$(1)/unity-$$k.cpp; \
    for m in $$members; do echo "#include \"$$m\""; done > $$f.new; \
    if cmp -s $$f.new $$f; then rm $$f.new; else mv $$f.new $$f; fi; echo $$f; done)

define layer_rules
$(1)_SRCS := $$(filter-out %/main.cpp,$$(shell find $(1) -name '*.cpp' 2>/dev/null | sort))
ifeq ($(UNITY),1)
$(1)_UNITY_SRCS := $$(call unity_batches,$(1),$$($(1)_SRCS))
$(1)_OBJS := $$($(1)_UNITY_SRCS:$(UNITY_SRC)/%.cpp=$$(BUILD)/%.o)
$$($(1)_OBJS): $$(BUILD)/%.o: $(UNITY_SRC)/%.cpp | $$(DEPS_STAMP)
	@mkdir -p $$(@D)
	$$(call say,CXX,$$<)$$(CCACHE) $$(CXX) $$(CXXFLAGS_ALL) $$(call pch_flags,$$(call pch_name,$$@)) -c $$< -o $$@
else
$(1)_OBJS := $$($(1)_SRCS:%.cpp=$$(BUILD)/%.o)
endif
$$(call layer_lib,$(1)): $$($(1)_OBJS)
	@mkdir -p $$(@D)
	$$(call say,AR,$$@)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rules,$(l))))
LIB_OBJS := $(foreach l,$(LAYERS),$($(l)_OBJS))
ALL_LIBS := $(call layer_lib,client) $(call libs_of,services)

SERVERS := weather datetime echo everything
PROGRAMS := $(BINDIR)/pki \
            $(if $(wildcard client/main.cpp),$(BINDIR)/client) \
            $(foreach s,$(SERVERS),$(if $(wildcard services/$(s)/main.cpp),$(BINDIR)/$(s)-server))

TEST_SRCS := $(shell find test -name '*.cpp' 2>/dev/null | sort)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
TEST_RUNNER := $(BUILD)/test-runner

all: $(PROGRAMS)
.PHONY: all
# Keep every object (the servers' main.o are otherwise removed as intermediates and rebuilt).
.SECONDARY:

# Precompiled headers (g++ only; PCH=0 turns them off): nlohmann/json, spdlog and the standard
# library for every file, Botan besides for pki/, cpp-httplib for server/ and services/. Each file
# gets its layer's header with -include, so a file still names what it uses (clang builds check).
# ccache caches objects made with a PCH only with these sloppiness settings and -fpch-preprocess.
PCH ?= $(if $(findstring clang,$(CXX)),0,1)
PCH_DIR := $(BUILD)/pch
ifeq ($(PCH),1)
  pch_flags = -include $(PCH_DIR)/$(1).hpp $(if $(CCACHE),-fpch-preprocess)
  ifneq ($(CCACHE),)
    export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
  endif
endif
PCH_OF_pki := pki
PCH_OF_server := server
PCH_OF_services := server
# The layer folder an object belongs to: $(BUILD)/LAYER/....o
layer_of = $(word 1,$(subst /, ,$(patsubst $(BUILD)/%,%,$(1))))
pch_name = $(or $(PCH_OF_$(call layer_of,$(1))),common)

# Keys in tokens (pki/pkcs11_token.cpp): PKCS#11's header, and p11-kit's proxy module where this
# system keeps it, the default --pkcs11-module (no architecture path written here).
$(if $(filter 1,$(UNITY)),$(pki_OBJS),$(BUILD)/pki/pkcs11_token.o $(BUILD)/pki/token_key.o): CXXFLAGS_ALL += $(shell pkg-config --cflags p11-kit-1 2>/dev/null) \
  -DMCPMTLS_P11_KIT_PROXY='"$(shell pkg-config --variable=proxy_module p11-kit-1 2>/dev/null || echo p11-kit-proxy.so)"'

$(BUILD)/%.o: %.cpp | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call say,CXX,$<)$(CCACHE) $(CXX) $(CXXFLAGS_ALL) $(call pch_flags,$(call pch_name,$@)) -c $< -o $@

ifeq ($(PCH),1)
$(PCH_DIR)/%.hpp: | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo '#include "$*/precompiled.hpp"' > $@
# Made without ccache (three files); -MMD's list of headers is not needed: a change to the
# project's precompiled.hpp files remakes them, and system headers come with a clean build.
$(PCH_DIR)/%.hpp.gch: $(PCH_DIR)/%.hpp $(wildcard include/*/precompiled.hpp) pki/precompiled.hpp
	$(call say,PCH,$@)$(CXX) $(filter-out -MMD -MP,$(CXXFLAGS_ALL)) -x c++-header $< -o $@
$(foreach l,$(LAYERS),$($(l)_OBJS)) $(TEST_OBJS) $(BUILD)/pki/main.o $(BUILD)/client/main.o \
  $(foreach s,$(SERVERS),$(BUILD)/services/$(s)/main.o) $(BUILD)/man/pages.o $(BUILD)/man/generate.o $(BUILD)/test-x509/harness.o: \
  $(PCH_DIR)/common.hpp.gch
$(pki_OBJS) $(BUILD)/pki/main.o: $(PCH_DIR)/pki.hpp.gch
$(server_OBJS) $(services_OBJS) $(foreach s,$(SERVERS),$(BUILD)/services/$(s)/main.o): $(PCH_DIR)/server.hpp.gch
endif

$(BINDIR)/pki: $(BUILD)/pki/main.o $(call libs_of,services)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CXX) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BINDIR)/client: $(BUILD)/client/main.o $(call libs_of,client)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CXX) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BINDIR)/%-server: $(BUILD)/services/%/main.o $(call libs_of,services)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CXX) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

# The man pages' generated parts (man/pages.hpp) come from the same rows as --help.
MAN_PAGES_OBJ := $(BUILD)/man/pages.o
MAN_GENERATOR := $(BUILD)/man-pages

$(TEST_RUNNER): $(TEST_OBJS) $(MAN_PAGES_OBJ) $(ALL_LIBS)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CXX) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(MAN_GENERATOR): $(BUILD)/man/generate.o $(MAN_PAGES_OBJ) $(ALL_LIBS)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CXX) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

# Rewrites the OPTIONS, --config keys and EXIT STATUS parts of man/*.1 and man/*.8.
man: $(DEPS_STAMP)
	@$(MAKE) $(MAN_GENERATOR)
	$(Q)$(MAN_GENERATOR) man
.PHONY: man

# No file includes a header of a layer above its own; Botan stays in pki/, cpp-httplib in server/.
# bin/pki's main is no part of the pki layer: the program links up to services/ (pki serve).
check-layers:
	$(Q)scripts/check-layers.sh $(foreach l,$(LAYERS),$(l)="$(LAYER_DEPS_$(l))") pki/main.cpp="$(LAYER_DEPS_services)"
.PHONY: check-layers

# ---------------------------------------------------------------------------------------------
# Tests: real binaries, real TLS on loopback. The runner finds the binaries through MCPMTLS_BIN.
TEST_ARGS ?=
# The last line is "N passed, M failed" (test cases), which CI logs are read for.
SUMMARIZE := awk '{ print } /^All tests passed/ { match($$0, /in [0-9]+ test case/); n = substr($$0, RSTART + 3, RLENGTH - 13); s = n " passed, 0 failed" } /^test cases:/ { gsub(/\|/, ""); s = $$4 " passed, " $$6 " failed" } END { if (s != "") print s }'

test: $(TEST_DEPS_STAMP) check-layers
	@$(MAKE) all $(TEST_RUNNER)
	@set -o pipefail; MCPMTLS_BIN=$(abspath $(BINDIR)) $(TEST_RUNNER) $(TEST_ARGS) 2>&1 | $(SUMMARIZE)
.PHONY: test

# The long form of the fleet test (make test runs it for 150 s on one-minute certificates): pki
# serve, the three servers and a bridge on two-minute certificates, renewing under load.
SOAK_SECONDS ?= 600
SOAK_TTL ?= 2m
soak: $(TEST_DEPS_STAMP)
	@$(MAKE) all $(TEST_RUNNER)
	@set -o pipefail; MCPMTLS_FLEET_SECONDS=$(SOAK_SECONDS) MCPMTLS_FLEET_TTL=$(SOAK_TTL) MCPMTLS_BIN=$(abspath $(BINDIR)) \
	  $(TEST_RUNNER) "[fleet]" 2>&1 | $(SUMMARIZE)
.PHONY: soak

# Memory-footprint tests ([rss]) measure the release build: sanitizers' shadow memory and
# quarantine make RSS meaningless there.
SANITIZE_TEST_ARGS ?= ~[rss]
test-sanitize: $(TEST_DEPS_STAMP)
	@$(MAKE) MODE=sanitize all build/sanitize/test-runner
	@set -o pipefail; ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  MCPMTLS_SANITIZED=1 MCPMTLS_BIN=$(abspath build/sanitize/bin) build/sanitize/test-runner "$(SANITIZE_TEST_ARGS)" 2>&1 | $(SUMMARIZE)
.PHONY: test-sanitize

clean:
	rm -rf build bin
.PHONY: clean

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(BUILD)/pki/main.d $(BUILD)/client/main.d $(BUILD)/man/pages.d $(BUILD)/man/generate.d \
         $(foreach s,$(SERVERS),$(BUILD)/services/$(s)/main.d)

# ---------------------------------------------------------------------------------------------
# Demo and conformance.
# Only what the demo runs: pki, the three servers and the client (not everything-server).
DEMO_PROGRAMS := $(BINDIR)/pki $(BINDIR)/client $(foreach s,weather datetime echo,$(BINDIR)/$(s)-server)
run-servers: $(DEPS_STAMP)
	@$(MAKE) $(DEMO_PROGRAMS)
	scripts/run-servers.sh
.PHONY: run-servers

# The official MCP conformance suite (needs npm; ../shared/conformance installs the rest).
conformance: $(TEST_DEPS_STAMP)
	@$(MAKE) all
	scripts/conformance.sh
.PHONY: conformance

# Throughput, latency, CPU per request and memory of the echo server (see README).
bench: $(TEST_DEPS_STAMP)
	@$(MAKE) all
	scripts/bench.sh
.PHONY: bench

# ---------------------------------------------------------------------------------------------
# Fuzzing (libFuzzer, clang, ASan+UBSan). Seeds and regression inputs live in fuzz/corpus/TARGET;
# new corpus entries go to build/fuzz/corpus/TARGET, crashes to build/fuzz/findings/.
# `make fuzz` runs each target FUZZ_SECONDS (default 60); `make fuzz-smoke` is CI's short run.
FUZZ_TARGETS := mcp_request modern_request certificate arguments router
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
FUZZ_STAMP := build/.fuzz-deps-installed

$(FUZZ_STAMP): $(DEPS_STAMP)
	$(call install_missing,$(FUZZ_PACKAGES))

build/fuzz/fuzz-%: build/fuzz/fuzz/%.o $(ALL_LIBS)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CXX) -fsanitize=fuzzer,address,undefined $^ -o $@ $(LDLIBS_ALL)

fuzz-targets: $(FUZZ_STAMP)
	@$(MAKE) MODE=fuzz $(FUZZ_TARGETS:%=build/fuzz/fuzz-%)
fuzz: fuzz-targets
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-smoke: fuzz-targets
	scripts/fuzz.sh 15 $(FUZZ_TARGETS)
.PHONY: fuzz-targets fuzz fuzz-smoke

-include $(FUZZ_TARGETS:%=build/fuzz/fuzz/%.d)

# ThreadSanitizer: the reload and concurrency tests (TSAN_TESTS) under TSan, the servers they
# start included. Every process writes its race reports to build/tsan/reports/; any report fails.
TSAN_TESTS ?= [rotation],[limits],[rate],[hostile],[connections],[mcp-runtime],[streams]~[rss]
test-tsan: $(TEST_DEPS_STAMP)
	@$(MAKE) MODE=tsan all build/tsan/test-runner
	@rm -rf build/tsan/reports && mkdir -p build/tsan/reports
	@set -o pipefail; TSAN_OPTIONS="second_deadlock_stack=1 suppressions=$(abspath test/tsan.supp) log_path=$(abspath build/tsan/reports)/race" \
	  MCPMTLS_SANITIZED=1 MCPMTLS_BIN=$(abspath build/tsan/bin) build/tsan/test-runner "$(TSAN_TESTS)" 2>&1 | $(SUMMARIZE)
	@if ls build/tsan/reports/race.* >/dev/null 2>&1; then \
	  echo "ThreadSanitizer reports:"; grep -h -A12 'WARNING: ThreadSanitizer' build/tsan/reports/race.* | head -80; exit 1; \
	else echo "ThreadSanitizer: no reports"; fi
.PHONY: test-tsan

# ---------------------------------------------------------------------------------------------
# X.509 conformance suites (../shared/x509-suites: x509-limbo, BoringSSL's google chains, NIST
# PKITS) through pki::verify_chain. Fails on a disagreement not listed in
# test/x509-exceptions.json and on a listed case that agrees again.
X509_SUITES ?= ../shared/x509-suites
X509_HARNESS := $(BUILD)/x509-harness

$(X509_HARNESS): $(BUILD)/test-x509/harness.o $(call libs_of,pki)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CXX) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

x509-suites: $(DEPS_STAMP)
	@$(MAKE) $(X509_HARNESS)
	$(X509_HARNESS) --suites $(X509_SUITES) --exceptions test/x509-exceptions.json --out build/x509-suites
.PHONY: x509-suites

-include $(BUILD)/test-x509/harness.d

# ---------------------------------------------------------------------------------------------
# Installing. `make install` puts the programs in $(PREFIX)/bin, the man pages where man finds
# them (each server's name is a link to mcp-servers.8), README and docs/ in
# $(PREFIX)/share/doc/mcp-mtls (with the example configs in examples/), the systemd units in
# $(PREFIX)/lib/systemd/system (/usr/local/lib/systemd/system is on systemd's search path too)
# and the system user's sysusers.d entry; the example configs go to $(SYSCONFDIR)/mcp-mtls
# unless a file of that name is there already. DESTDIR stages it elsewhere (make deb does).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL_DOCDIR := $(PREFIX)/share/doc/mcp-mtls
INSTALL_PROGRAMS := $(BINDIR)/pki $(BINDIR)/client $(foreach s,$(SERVERS),$(BINDIR)/$(s)-server)
SERVER_CONFIGS := $(foreach s,$(SERVERS),packaging/config/$(s).json)
UNIT_TEMPLATES := $(wildcard packaging/systemd/*.in)
UNIT_FILES := $(wildcard packaging/systemd/*.timer)
# Units name the programs and configs by where this install puts them.
unit_paths := sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: all
	$(call say,INSTALL,$(DESTDIR)$(PREFIX))install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(INSTALL_DOCDIR)/examples $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/mcp-mtls
	$(Q)install -m 0755 $(INSTALL_PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	$(Q)install -m 0644 man/pki.1 man/client.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	$(Q)install -m 0644 man/mcp-servers.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	$(Q)for s in $(SERVERS); do ln -sfn mcp-servers.8 $(DESTDIR)$(PREFIX)/share/man/man8/$$s-server.8; done
	$(Q)install -m 0644 README.md docs/*.md $(DESTDIR)$(INSTALL_DOCDIR)/
	$(Q)install -m 0644 $(SERVER_CONFIGS) $(DESTDIR)$(INSTALL_DOCDIR)/examples/
	$(Q)for t in $(UNIT_TEMPLATES); do $(unit_paths) $$t >$(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$t .in) && \
	  chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$t .in); done
	$(Q)install -m 0644 $(UNIT_FILES) $(DESTDIR)$(SYSTEMDUNITDIR)/
	$(Q)install -m 0644 packaging/mcp-mtls.sysusers $(DESTDIR)$(SYSUSERSDIR)/mcp-mtls.conf
	$(Q)for c in $(SERVER_CONFIGS); do f=$(DESTDIR)$(SYSCONFDIR)/mcp-mtls/$$(basename $$c); \
	  [ -e $$f ] && echo "kept $$f" || install -m 0644 $$c $$f; done
.PHONY: install

# Everything install wrote but the configs in $(SYSCONFDIR)/mcp-mtls, which may have been edited.
uninstall:
	$(call say,RM,$(DESTDIR)$(PREFIX))rm -f $(foreach p,$(INSTALL_PROGRAMS),$(DESTDIR)$(PREFIX)/bin/$(notdir $(p))) \
	  $(DESTDIR)$(PREFIX)/share/man/man1/pki.1 $(DESTDIR)$(PREFIX)/share/man/man1/client.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man8/mcp-servers.8 $(foreach s,$(SERVERS),$(DESTDIR)$(PREFIX)/share/man/man8/$(s)-server.8) \
	  $(foreach u,$(UNIT_TEMPLATES),$(DESTDIR)$(SYSTEMDUNITDIR)/$(notdir $(u:.in=))) \
	  $(foreach u,$(UNIT_FILES),$(DESTDIR)$(SYSTEMDUNITDIR)/$(notdir $(u))) $(DESTDIR)$(SYSUSERSDIR)/mcp-mtls.conf
	$(Q)rm -rf $(DESTDIR)$(INSTALL_DOCDIR)
.PHONY: uninstall

# The Debian package, from the binaries make all built (nothing is compiled again), and what
# checking it needs: dpkg-dev (dpkg-shlibdeps), lintian, systemd (systemd-analyze; it need not
# be running), man-db (systemd-analyze verify looks up the units' man pages) and adduser (the
# package's postinst).
PACKAGE_PACKAGES := dpkg-dev lintian systemd man-db adduser binutils
PACKAGE_DEPS_STAMP := build/.package-deps-installed
$(PACKAGE_DEPS_STAMP): $(DEPS_STAMP) Makefile
	$(call install_missing,$(PACKAGE_PACKAGES))

VERSION := $(shell sed -n 's/.*kVersion = "\([^"]*\)".*/\1/p' include/common/version.hpp)
DEB_ARCH = $(shell dpkg --print-architecture)
DEB = build/mcp-mtls_$(VERSION)_$(DEB_ARCH).deb

deb: $(PACKAGE_DEPS_STAMP)
	@$(MAKE) all
	+packaging/build-deb.sh $(VERSION) $(DEB)
.PHONY: deb

# Builds the package and checks it: lintian, each unit with systemd-analyze (verify, and a
# security rating of 2.0 or lower), then, as root only, installs it, runs the installed
# echo-server as the mcp-mtls user, calls it, removes and purges it (scripts/package-test.sh).
package-test: deb
	scripts/package-test.sh $(DEB)
.PHONY: package-test
