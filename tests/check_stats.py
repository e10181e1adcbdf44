#!/usr/bin/env python3
"""check_stats.py SCRIPTS_DIR - scripts/pmbstats.py on made-up samples with
known answers (no timing: every sample comes from a seeded generator):
an A/A comparison of 400 cases with per-process offsets calls none faster or
slower (while an uncorrected "interval excludes 1" rule flags several: the
negative control) and its p-values are not degenerate; planted +5% and -5%
shifts are called slower and faster in every case, also among 400 unchanged
ones; a tight interval at +0.5% is "same" within the default margin and
"slower" under a smaller one; Benjamini-Hochberg on hand-computed vectors;
the p-value is symmetric; Student's t against tabled values; the stop rule
on made-up spreads (tight: stop; wide within processes: repetitions; wide
between: processes; one process: processes); the same input gives the same
output, in another process too; bad samples are refused in one line."""
import json
import math
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from pmbtest import expect, failed  # noqa: E402

pmbstats = None


def side(rng, mu, shift=1.0, procs=3, reps=3, between=0.01, within=0.003):
    """Groups of made-up times: procs processes, each offset by a
    multiplicative N(0, between), reps repetitions each with N(0, within)."""
    out = []
    for _ in range(procs):
        off = mu * shift * (1.0 + rng.gauss(0.0, between))
        out.append([off * (1.0 + rng.gauss(0.0, within)) for _ in range(reps)])
    return out


def counts(judged):
    c = dict.fromkeys(pmbstats.VERDICTS, 0)
    for v in judged.values():
        c[v["verdict"]] += 1
    return c


def aa(rng, n=400, **kw):
    """n cases, both sides from one distribution (mu from 10 ns to 10 us)."""
    cases = {}
    for i in range(n):
        mu = 10.0 ** rng.uniform(1, 4)
        cases["aa/%d" % i] = (side(rng, mu, **kw), side(rng, mu, **kw))
    return cases


def check_aa():
    for seed, kw in ((1, {}), (2, {"procs": 5, "reps": 5}), (3, {"between": 0.03})):
        rng = random.Random(seed)
        cases = aa(rng, **kw)
        judged = pmbstats.judge(cases)
        c = counts(judged)
        expect(c["faster"] == 0 and c["slower"] == 0,
               "A/A (seed %d, %s): %s, wanted 0 faster and 0 slower" % (seed, kw, c))
        # negative control: the old rule (the 95% interval excludes 1) on the
        # same figures flags cases; FDR control and the process-counted
        # p-value are what keep them out
        naive = sum(1 for v in judged.values() if v["lo"] > 1 or v["hi"] < 1)
        expect(naive >= 5, "A/A (seed %d): the uncorrected rule flags only %d cases: the "
                           "test could not fail" % (seed, naive))
        # the p-values are not degenerate (all 1 would pass the A/A)
        small = sum(1 for v in judged.values() if v["p"] < 0.05) / float(len(judged))
        expect(0.01 <= small <= 0.15, "A/A (seed %d): %.1f%% of p-values below 0.05, wanted "
                                      "near 5%%" % (seed, 100 * small))
        print("A/A seed %d %s: %s; uncorrected rule would flag %d; %.1f%% of p < 0.05"
              % (seed, kw, c, naive, 100 * small))


def check_planted():
    rng = random.Random(4)
    small = {"between": 0.003, "within": 0.002}
    for shift, want in ((1.05, "slower"), (0.95, "faster")):
        cases = {}
        for i in range(50):
            mu = 10.0 ** rng.uniform(1, 4)
            cases["p/%d" % i] = (side(rng, mu, shift, **small), side(rng, mu, **small))
        c = counts(pmbstats.judge(cases))
        expect(c[want] == 50, "planted %+.0f%% in 50 cases: %s, wanted 50 %s"
               % (100 * (shift - 1), c, want))
    # 10 planted +5% among 400 unchanged: the planted found, nothing else
    cases = aa(rng, **small)
    for i in range(10):
        mu = 10.0 ** rng.uniform(1, 4)
        cases["plant/%d" % i] = (side(rng, mu, 1.05, **small), side(rng, mu, **small))
    judged = pmbstats.judge(cases)
    slow = sorted(n for n, v in judged.items() if v["verdict"] == "slower")
    other = [n for n, v in judged.items() if v["verdict"] == "faster"]
    expect(slow == sorted("plant/%d" % i for i in range(10)) and not other,
           "10 planted +5%% among 400: slower %s, faster %s" % (slow, other))
    # a lone planted case among 400 is found too, given 4 processes a side
    # (Welch's t: nothing trimmed) or 8 (Yuen's, 1 trimmed from each end):
    # a bootstrap p-value, floored at 1/2001, could never pass BH's 0.05/401
    for procs in (4, 8):
        cases = aa(rng, **small)
        cases["lone"] = (side(rng, 100.0, 1.05, procs=procs, **small),
                         side(rng, 100.0, procs=procs, **small))
        judged = pmbstats.judge(cases)
        flagged = [n for n, v in judged.items() if v["verdict"] in ("slower", "faster")]
        expect(flagged == ["lone"], "one planted +5%% (%d processes) among 400: flagged %s; "
               "its figures %s" % (procs, flagged, judged["lone"]))
    print("planted: +5%/-5% called slower/faster in 50 of 50; 10 planted among 400 found "
          "alone; one planted among 400 found alone")


def units_groups(units):
    """Groups of one repetition whose _units are the given log medians."""
    return [[math.exp(u)] for u in units]


def check_trimmed():
    """p_value is Yuen's test: known answers (scipy 1.10.1's
    ttest_ind(a, b, equal_var=False, trim=0.2) on the same units, computed
    once and written here: scipy is not needed to run this), Welch's t
    where a side has fewer than 5 processes; then on made-up A/A trials
    drawn from skewed and bimodal process medians, a side of 4 against 32,
    p < 0.05 in at most 10% where Welch's t gives 20-28%; and a 3% slowdown with
    one slow process a side called where Welch's misses it."""
    known = [
        ([6.824, 6.825, 6.826, 6.835, 6.79, 6.80, 6.81, 6.95],
         [6.78, 6.781, 6.783, 6.783, 6.79, 6.792, 6.794, 6.795, 6.795, 6.795, 6.796, 6.801,
          6.801, 6.802, 6.803, 6.807, 6.809, 6.81, 6.812, 6.813, 6.814, 6.816, 6.821, 6.828,
          6.836, 6.864, 6.871, 6.902, 6.926, 6.93, 6.964, 6.981],
         0.3761825966792802),  # Welch's: 0.825289414405789
        ([1, 2, 3, 4], [2, 3, 4, 9, 10], 0.38382276788835173),  # Welch's: 0.1353592786285063
        ([0.1, 0.2, 0.4, 0.3], [0.5, 0.45, 0.6, 0.7], 0.01084558764404017),  # = Welch's
        ([3.0, 3.1, 2.9, 3.05, 3.2, 2.95, 3.4, 3.0, 3.1, 2.8],
         [3.3, 3.25, 3.4, 3.1, 3.5, 3.35, 3.2, 4.5, 3.3, 3.28, 3.31, 3.29],
         0.00013893920482647862),  # Welch's: 0.008695208328384448
    ]
    for a, b, want in known:
        got = pmbstats.p_value(units_groups(a), units_groups(b))
        expect(abs(got - want) <= 1e-9 * want, "p_value(%d against %d units) = %r, Yuen's "
               "test gives %r" % (len(a), len(b), got, want))
    # made-up A/A: both sides drawn from one population of process medians
    rng = random.Random(11)
    shapes = {"right-skewed": [0.0] * 60 + [0.02 * k for k in range(1, 41)],
              "bimodal 70/30, +17%": [0.0] * 70 + [0.17] * 30,
              "bimodal 90/10, +30%": [0.0] * 90 + [0.3] * 10}

    def draw(pop, n, shift=0.0):
        return [[math.exp(rng.choice(pop) + shift + rng.gauss(0.0, 0.002))] for _ in range(n)]

    def welch(a, b):
        (ma, va), (mb, vb) = pmbstats._mean_var(pmbstats._units(a)), \
            pmbstats._mean_var(pmbstats._units(b))
        df = (va + vb) ** 2 / (va * va / (len(a) - 1.0) + vb * vb / (len(b) - 1.0))
        return pmbstats.t_two_sided((ma - mb) / math.sqrt(va + vb), df)

    rates = []
    for name, pop in shapes.items():
        trials, ours, theirs = 600, 0, 0
        for _ in range(trials):
            a, b = draw(pop, 4), draw(pop, 32)
            ours += pmbstats.p_value(a, b) < 0.05
            theirs += welch(a, b) < 0.05
        expect(ours <= 0.10 * trials and theirs >= 0.15 * trials,
               "A/A, %s process medians, 4 against 32 processes: p < 0.05 in %d of %d "
               "(Welch's t: %d); wanted at most 10%% (and Welch's at least 15%%, or the test "
               "could not fail)" % (name, ours, trials, theirs))
        rates.append("%s %.1f%% (Welch %.1f%%)" % (name, 100.0 * ours / trials,
                                                   100.0 * theirs / trials))
    # one slow process (+25%) on each side of a 3% slowdown of 10 processes
    base = [[100.0 * (1 + 0.002 * k)] for k in range(9)] + [[125.0]]
    slow = [[103.0 * (1 + 0.002 * k)] for k in range(9)] + [[129.0]]
    v = pmbstats.judge({"c": (slow, base)})["c"]
    expect(v["verdict"] == "slower" and welch(slow, base) > 0.05,
           "+3%% with one slow process a side: %s (Welch's p %.3f)" % (v, welch(slow, base)))
    print("trimmed: 4 known answers; A/A 4 against 32, p < 0.05: " + "; ".join(rates)
          + "; +3%% with an outlying process a side: slower, p %.2g" % v["p"])


def check_margin():
    rng = random.Random(5)
    tight = {"between": 0.0005, "within": 0.0005, "procs": 5, "reps": 5}
    case = {"m": (side(rng, 100.0, 1.005, **tight), side(rng, 100.0, **tight))}
    v = pmbstats.judge(case)["m"]
    expect(v["verdict"] == "same" and 1.003 < v["ratio"] < 1.007,
           "+0.5%% with a tight interval, margin 2%%: %s, wanted same" % v)
    v1 = pmbstats.judge(case, margin=0.001)["m"]
    expect(v1["verdict"] == "slower", "+0.5%% tight, margin 0.1%%: %s, wanted slower" % v1)
    v0 = pmbstats.judge(case, margin=0.0)["m"]
    expect(v0["verdict"] == "slower", "+0.5%% tight, margin 0: %s, wanted slower" % v0)
    # a wide interval around +0.5% is not "same": it is unsure
    wide = {"between": 0.05, "within": 0.01}
    w = pmbstats.judge({"w": (side(rng, 100.0, 1.005, **wide), side(rng, 100.0, **wide))})["w"]
    expect(w["verdict"] == "unsure", "+0.5%% with a wide interval: %s, wanted unsure" % w)
    # the rules on given figures: margin first, then FDR and the interval
    rules = [((1.01, 1.005, 1.015, 0.001), "same"), ((1.01, 1.005, 1.025, 0.001), "slower"),
             ((0.97, 0.95, 0.99, 0.01), "faster"), ((1.05, 1.01, 1.09, 0.2), "unsure"),
             ((1.05, 0.99, 1.09, 0.001), "unsure"), ((0.98, 0.981, 0.99, 0.5), "same")]
    for (r, lo, hi, p), want in rules:
        got = pmbstats.verdict(r, lo, hi, p)
        expect(got == want, "verdict(%s, [%s, %s], p_adj %s) = %s, wanted %s"
               % (r, lo, hi, p, got, want))
    # one process a side (PROCESSES=1): not "same", however narrow its
    # interval (one repetition each: no width at all)
    for one in (([[101.0]], [[100.0]]), ([[100.0, 100.1, 99.9]], [[100.0, 100.05, 99.95]])):
        o = pmbstats.judge({"one": one})["one"]
        expect(o["verdict"] == "unsure", "one process a side %s: %s, wanted unsure" % (one, o))
    print("margin: +0.5% tight is same at 2%, slower at 0.1% and 0; wide is unsure; one process "
          "a side is unsure")


def check_bh():
    vectors = [([0.01, 0.04, 0.03, 0.005], [0.02, 0.04, 0.04, 0.02]),
               ([0.5, 0.9, 0.001], [0.75, 0.9, 0.003]),
               ([0.02, 0.03, 0.04, 0.05], [0.05, 0.05, 0.05, 0.05]),
               ([0.9, 0.8], [0.9, 0.9]),
               ([1.0, 0.0], [1.0, 0.0]),
               ([], [])]
    for ps, want in vectors:
        got = pmbstats.bh_adjust(ps)
        expect(len(got) == len(want) and all(abs(a - b) < 1e-12 for a, b in zip(got, want)),
               "bh_adjust(%s) = %s, wanted %s" % (ps, got, want))
    try:
        pmbstats.bh_adjust([0.5, 1.5])
        expect(False, "bh_adjust took a p-value of 1.5")
    except pmbstats.BadSamples:
        pass
    print("Benjamini-Hochberg: %d hand-computed vectors" % len(vectors))


def check_symmetry_and_t():
    rng = random.Random(6)
    a, b = side(rng, 50.0, 1.02), side(rng, 50.0)
    r1, lo1, hi1, p1 = pmbstats.ratio_interval(a, b)
    r2, lo2, hi2, p2 = pmbstats.ratio_interval(b, a)
    expect(p1 == p2, "p(a, b) = %r but p(b, a) = %r" % (p1, p2))
    expect(abs(r1 * r2 - 1) < 1e-12 and abs(lo1 * hi2 - 1) < 0.01 and abs(hi1 * lo2 - 1) < 0.01,
           "swapped sides: %s against %s are not reciprocal" % ((r1, lo1, hi1), (r2, lo2, hi2)))
    same = pmbstats.ratio_interval(a, a)
    expect(same[0] == 1.0 and same[3] == 1.0 and same[1] < 1 < same[2],
           "a side against itself: %s" % (same,))
    # whole-process runs (hyperfine), one group per run, are judged
    runs_a, runs_b = [10.0, 10.1, 9.9, 10.2, 9.8] * 2, [5.0, 5.05, 4.95, 5.1, 4.9] * 2
    h = pmbstats.ratio_interval([[x] for x in runs_a], [[x] for x in runs_b])
    expect(abs(h[0] - 2) < 1e-12 and h[1] > 1.9 and h[3] < 1e-6, "one run a group: %s" % (h,))
    # one process a side has an interval but no p-value: its repetitions are
    # not independent samples
    one = pmbstats.ratio_interval([runs_a], [runs_b])
    expect(abs(one[0] - 2) < 1e-12 and one[1] > 1.9 and one[3] == 1.0,
           "one process a side: %s, wanted p 1.0" % (one,))
    v = pmbstats.judge({"one": ([runs_a], [runs_b])})["one"]["verdict"]
    expect(v == "unsure", "one process a side, 2x: %s, wanted unsure" % v)
    tables = [(2.776445, 4, 0.05), (12.7062, 1, 0.05), (1.959964, 1e7, 0.05), (0.0, 3, 1.0),
              (4.604095, 4, 0.01), (2.364624, 7, 0.05), (3.499483, 7, 0.01)]
    # closed forms: df 1 (Cauchy) and df 2, down to tiny p
    for t in (0.3, 1.0, 7.0, 300.0, 1e5):
        tables.append((t, 1, 1 - 2 / math.pi * math.atan(t)))
        tables.append((t, 2, 1 - t / math.sqrt(2 + t * t)))
    for t, df, want in tables:
        got = pmbstats.t_two_sided(t, df)
        expect(abs(got - want) <= 1e-6 * want, "t_two_sided(%s, %s) = %r, wanted %r"
               % (t, df, got, want))
    between = [pmbstats.t_two_sided(2.5, df) for df in (7, 7.5, 8)]
    expect(between[0] > between[1] > between[2], "t_two_sided(2.5, 7 / 7.5 / 8) not in order: "
           "%s" % between)
    # hierarchical: processes that differ widen the interval beyond what
    # their repetitions pooled as one process give
    g = [[c * (1 + 0.001 * (k % 5)) for k in range(20)] for c in (100.0, 104.0, 97.0)]
    h_lo, h_hi = pmbstats.median_interval(g)[1:]
    f_lo, f_hi = pmbstats.median_interval([sum(g, [])])[1:]
    expect(h_hi - h_lo > f_hi - f_lo, "hierarchical interval [%s, %s] not wider than pooled "
                                      "[%s, %s]" % (h_lo, h_hi, f_lo, f_hi))
    print("symmetry: p(a, b) == p(b, a), reciprocal ratios; t against tables; hierarchical "
          "intervals wider than pooled")


def check_stop_rule():
    rng = random.Random(7)
    tight = side(rng, 100.0, between=0.001, within=0.001, procs=3, reps=5)
    got = pmbstats.needs_more(tight)
    expect(got == (False, None), "tight samples: needs_more %s, wanted (False, None)" % (got,))
    spread = [90.0, 95.0, 100.0, 105.0, 110.0]
    within = [rng.sample(spread, len(spread)) for _ in range(3)]  # same centre each
    got = pmbstats.needs_more(within)
    expect(got == (True, "repetitions"), "wide within processes: %s" % (got,))
    between = [[c * (1 + 0.0005 * k) for k in range(5)] for c in (90.0, 100.0, 112.0)]
    got = pmbstats.needs_more(between)
    expect(got == (True, "processes"), "wide between processes: %s" % (got,))
    got = pmbstats.needs_more([[100.0, 100.1, 99.9, 100.05]])
    expect(got == (True, "processes"), "one process: %s" % (got,))
    # two processes that agree: their interval is only their gap
    got = pmbstats.needs_more(tight[:2])
    expect(got[0], "two tight processes: %s" % (got,))
    got = pmbstats.needs_more(within, target=0.5)
    expect(got == (False, None), "wide within, target 50%%: %s" % (got,))
    got = pmbstats.needs_more([[100.0], [120.0], [80.0]])
    expect(got[0] and got[1] in ("processes", "repetitions"), "one repetition each: %s"
           % (got,))
    # three processes whose repetitions agree, medians 99.5, 100 and 100.5:
    # the median's bootstrap interval is within +-1%, but the t interval of
    # the three process medians (what the verdict's test has) is +-1.2%
    apart = [[c * (1 + 0.0002 * (k % 5)) for k in range(10)] for c in (99.5, 100.0, 100.5)]
    med, lo, hi = pmbstats.median_interval(apart)
    half = pmbstats.process_half_width(apart)
    got = pmbstats.needs_more(apart)
    expect((hi - lo) / 2 <= 0.01 * med and 0.011 < half < 0.013 and got == (True, "processes"),
           "three agreeing processes 1%% apart: bootstrap +-%.2f%%, processes +-%.2f%%, "
           "needs_more %s" % (50 * (hi - lo) / med, 100 * half, got))
    expect(abs(pmbstats.t_quantile(0.95, 2) - 4.3027) < 1e-3
           and abs(pmbstats.t_quantile(0.95, 30) - 2.0423) < 1e-3,
           "t quantiles: %s %s" % (pmbstats.t_quantile(0.95, 2), pmbstats.t_quantile(0.95, 30)))
    print("stop rule: tight stops; wide within -> repetitions; wide between -> processes; "
          "one process -> processes; two -> more; three that agree within themselves but not "
          "with each other -> processes; the target is settable")


CHILD = """
import json, random, sys
sys.path.insert(0, sys.argv[1])
import pmbstats
rng = random.Random(8)
cases = {}
for i in range(40):
    cases["c/%d" % i] = ([[rng.uniform(90, 110) for _ in range(3)] for _ in range(3)],
                         [[rng.uniform(90, 110) for _ in range(3)] for _ in range(3)])
print(json.dumps(pmbstats.judge(cases), sort_keys=True))
"""


def check_determinism(scripts):
    rng = random.Random(8)
    cases = aa(rng, n=60)
    one = pmbstats.judge(cases)
    pmbstats._boot.cache_clear()
    pmbstats._patterns.cache_clear()
    two = pmbstats.judge(cases)
    expect(one == two, "judge twice on the same cases: different figures")
    sub = pmbstats.judge(dict(list(cases.items())[:7]))
    expect(all(sub[n][k] == one[n][k] for n in sub for k in ("ratio", "lo", "hi", "p")),
           "a case's interval and p depend on the other cases judged with it")
    mi = [pmbstats.median_interval(cases["aa/3"][0]) for _ in range(2)]
    expect(mi[0] == mi[1], "median_interval twice: %s" % mi)
    outs = []
    for hashseed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        p = subprocess.run([sys.executable, "-c", CHILD, scripts], capture_output=True,
                           text=True, env=env)
        outs.append(p.stdout)
        expect(p.returncode == 0, "child: %s" % p.stderr)
    expect(outs[0] == outs[1] and json.loads(outs[0] or "{}"),
           "two processes (other hash seeds) gave different figures")
    print("determinism: the same figures twice, with cleared caches, among other cases, "
          "and in two processes")


def check_bad_input():
    for bad in ([], [[]], [[0.0]], [[1.0, -2.0]], [[float("nan")]], [["1"]], "abc", [[True]],
                [[float("inf")]], None):
        try:
            pmbstats.median_interval(bad)
            expect(False, "median_interval took %r" % (bad,))
        except pmbstats.BadSamples as e:
            expect("\n" not in str(e), "a message of more than one line: %r" % str(e))
    for kw in ({"margin": -0.1}, {"q": 0}, {"q": 1.5}, {"level": 1.0}, {"resamples": 3}):
        try:
            pmbstats.judge({"c": ([[1.0, 2.0]], [[1.0, 2.0]])}, **kw)
            expect(False, "judge took %s" % kw)
        except pmbstats.BadSamples:
            pass
    try:
        pmbstats.judge({"c/x": ([[1.0]], [[0.0]])})
        expect(False, "judge took a time of 0")
    except pmbstats.BadSamples as e:
        expect("c/x" in str(e), "judge's message does not name the case: %s" % e)
    print("bad samples refused in one line")


def main(scripts):
    global pmbstats
    sys.path.insert(0, scripts)
    import pmbstats as mod
    pmbstats = mod
    check_aa()
    check_planted()
    check_trimmed()
    check_margin()
    check_bh()
    check_symmetry_and_t()
    check_stop_rule()
    check_determinism(scripts)
    check_bad_input()
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
