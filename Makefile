# pymembench - the two commands a user types: `make bench` and `make test`.
# Variables: PYTHONS (paths, commands, versions like 3.12, or all),
# ALLOCATORS (default pymalloc malloc mimalloc debug), FILTER (regex over
# case names), SUITE (quick, full), PROCESSES (per configuration),
# RESULTS (output folder), BASE (the column `make compare` divides by);
# for make stress: STRESS_SECONDS, FAULT_POINTS, FAULT_DOMAINS;
# for make regress: BASELINE, UPDATE=1, THRESHOLD, TIME_THRESHOLD, GATE,
# TIME=0, HISTORY. See README.md.
# SANITIZE=1: make test with AddressSanitizer and UBSan, into build-asan/.
# make test covers every interpreter discovery finds unless PYTHONS is given
# (SANITIZE=1: python3 only, to keep its run short).
SANITIZE ?= 0
# make regress uses the baseline's interpreter unless PYTHONS is given
PYMB_PYTHONS_GIVEN := $(if $(filter undefined,$(origin PYTHONS)),0,1)
ifeq ($(origin PYTHONS),undefined)
TEST_PYTHONS := $(if $(filter 1,$(SANITIZE)),python3,all)
else
TEST_PYTHONS := $(PYTHONS)
endif
PYTHONS ?= python3
ALLOCATORS ?= default
FILTER ?=
SUITE ?= quick
RESULTS ?=
BASE ?=
PROCESSES ?=
STRESS_SECONDS ?=
FAULT_POINTS ?=
FAULT_DOMAINS ?=
BASELINE ?= results/baseline
export PYTHONS ALLOCATORS FILTER SUITE RESULTS PROCESSES BASE SANITIZE STRESS_SECONDS FAULT_POINTS FAULT_DOMAINS
export BASELINE

.PHONY: bench test clean stress compare plots regress

bench:
	@scripts/bench

test:
	@PYTHONS="$(TEST_PYTHONS)" scripts/test

clean:
	rm -rf build build-asan

# summary.md across the result files of a run (default: the latest).
compare:
	@scripts/compare $(if $(BASE),--base "$(BASE)") "$(if $(RESULTS),$(RESULTS),results/latest)"

# charts of a run (default: the latest) from its results; nothing is re-run.
plots:
	@scripts/plots "$(if $(RESULTS),$(RESULTS),results/latest)"

# stress tests and fault injection (not benchmarks): see README, "Stress runs".
stress:
	@scripts/stress

# the quick suite counted and timed, against BASELINE: see README,
# "Regression verdicts".
regress:
	@PYMB_PYTHONS_GIVEN=$(PYMB_PYTHONS_GIVEN) scripts/regress
