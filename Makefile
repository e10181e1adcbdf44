# pymembench - the two commands a user types: `make bench` and `make test`.
# Variables: PYTHONS (paths, commands, versions like 3.12, 3.13t or 3.11d, all
# release builds, or all+debug),
# ALLOCATORS (default pymalloc malloc mimalloc debug), FILTER (regex over
# case names), SUITE (quick, full), PROCESSES (the first pass's processes
# per configuration), TARGET (percent: the interval sampling aims for),
# BUDGET (seconds), MAX_PROCESSES, CASE_BUDGET, VERBOSE=1 (the tables),
# RESULTS (output folder), BASE (the column `make compare` divides by),
# MARGIN (percent: "same" within it, default 2), FDR (false-discovery rate,
# default 0.05; scripts/compare reads both from the environment);
# for make stress: STRESS (quick, long), STRESS_SECONDS, STRESS_OPS,
# STRESS_MAX_SECONDS, FAULT_POINTS, FAULT_DOMAINS;
# for make regress: BASE_REF, BASELINE, UPDATE=1, THRESHOLD, TIME_THRESHOLD,
# GATE, TIME=0, HISTORY, JOBS (cases counted at once). See README.md.
# SANITIZE=1: make test with AddressSanitizer and UBSan, into build-asan/.
# Each script picks its own defaults: make test covers every interpreter
# (debug ones too) discovery finds unless PYTHONS is given, make bench python3.

.DEFAULT_GOAL := bench
# One target at a time: each ends make with its script's status.
.NOTPARALLEL:

# Values reach the scripts through the environment, never through recipe
# text: a quote, backtick or $(...) in a value is data. $(value) keeps a
# value as typed: make would expand X='$(shell ...)' itself when it hands a
# command-line variable (any, not only ours) to a recipe's environment.
PYMB_VARS := PYTHONS ALLOCATORS FILTER SUITE RESULTS PROCESSES BASE SANITIZE \
    STRESS STRESS_SECONDS STRESS_OPS STRESS_MAX_SECONDS FAULT_POINTS FAULT_DOMAINS BASE_REF BASELINE UPDATE THRESHOLD \
    TIME_THRESHOLD GATE TIME HISTORY HYPERFINE PLOTS BUILD JOBS MARGIN FDR \
    TARGET BUDGET MAX_PROCESSES CASE_BUDGET VERBOSE
$(foreach v,$(PYMB_VARS),$(if $(filter undefined,$(origin $(v))),,\
    $(eval override $(v) := $$(value $(v)))))
$(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),\
    $(eval override $(v) := $$(value $(v)))$(eval export $(v))))
export $(PYMB_VARS)
# Nor through MAKEFLAGS: a make run below ours (cmake --build) would expand
# the command line's definitions again.
MAKEOVERRIDES :=

# Exit codes. GNU make exits 2 whenever a recipe fails, so a regression
# (a script's exit 1) would read as a usage error (2). Each target runs its
# script in a helper target that keeps the exit status in a file; the
# target then ends make with that status through $(pymb-status FILE), a
# function of the plugin scripts/make-status.c, built here on first use.
# Without a C compiler the plugin is missing and make says 2 for both.
PYMB_MAKE := build/.make
PYMB_RUN := $(PYMB_MAKE)/status.$(shell echo $$PPID)
-load $(PYMB_MAKE)/pymb_status.so
$(PYMB_MAKE)/pymb_status.so: scripts/make-status.c
	@mkdir -p $(@D) && $(CC) -shared -fPIC -O2 -Wall -Wextra -o $@.$$$$ $< && mv $@.$$$$ $@ ||\
	    echo "make: cannot build $@: make's exit status will be 2 for every failure" >&2

PYMB_TARGETS := bench test stress regress compare plots
.PHONY: $(PYMB_TARGETS) clean $(PYMB_TARGETS:%=.run-%)

# $(1): the target; the rest of the line is its script's command.
define pymb_status
$(if $(filter %pymb_status.so,$(.LOADED)),\
    @$$(pymb-status $(PYMB_RUN).$(1)),\
    @s=$$$$(cat "$(PYMB_RUN).$(1)"); rm -f "$(PYMB_RUN).$(1)"; exit "$$$${s:-2}")
endef
# On Ctrl-C the recipe's shell outlives the script by a second (its trap
# waits for the script, then sleeps): a shell that died of the SIGINT at
# once could be reaped by make's main loop just before make's own SIGINT
# handler ran, and that handler's wait then fails ("make: *** wait: No
# child processes. Stop.", exit 2 instead of make dying of the signal).
define pymb_target
$(1): .run-$(1)
	$(call pymb_status,$(1))
.run-$(1):
	@mkdir -p $(PYMB_MAKE); trap 'sleep 1; exit 130' INT; $(2); echo $$$$? >"$(PYMB_RUN).$(1)"
endef

$(eval $(call pymb_target,bench,scripts/bench))
$(eval $(call pymb_target,test,scripts/test))
# stress tests and fault injection (not benchmarks): see docs/stress.md.
$(eval $(call pymb_target,stress,scripts/stress))
# base commit against the working tree: see docs/regress.md.
$(eval $(call pymb_target,regress,scripts/regress))
# summary.md across the result files of a run (default: the latest).
$(eval $(call pymb_target,compare,scripts/compare $$$${BASE:+--base "$$$$BASE"} "$$$${RESULTS:-results/latest}"))
# charts of a run (default: the latest) from its results; nothing is re-run.
$(eval $(call pymb_target,plots,scripts/plots "$$$${RESULTS:-results/latest}"))

clean:
	rm -rf build build-asan
