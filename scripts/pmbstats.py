"""pmbstats - the one statistics module of pymembench: scripts/compare,
scripts/regress-verdict, scripts/describe, scripts/plots (through
summary.md.json) and scripts/bench's adaptive sampling (scripts/next-round)
take every interval, p-value and verdict from here. Pure standard library, deterministic (a fixed seed: the same
samples give the same figures). docs/statistics.md describes the method.

Samples are "groups": a list of per-process lists of numbers > 0 (e.g. real
ns per iteration of each repetition), one list per process. A single group
is a single process: it has an interval, from its repetitions, but no
p-value (1.0: nothing shows the spread between processes). Whole-process
timings (hyperfine) are one group per run, [[t1], [t2], ...]: each run is a
process.

  median_interval(groups) -> (median, lo, hi)
      the pooled median and its percentile interval from a hierarchical
      bootstrap: processes drawn with replacement, then repetitions within
      each drawn process, the median of the pooled draw.
  ratio_interval(groups, base_groups) -> (ratio, lo, hi, p)
      ratio of pooled medians, its percentile interval (both sides
      resampled independently, hierarchically), and p_value's p.
  p_value(groups, base_groups) -> p
      two-sided, for "same time": Yuen's test (Welch's t on 20%-trimmed
      means, winsorized variances) on the log median of each process (the
      process is the unit; degrees of freedom counted in processes, so few
      processes give heavy tails, as they should; 1.0 when a side has one
      process). With fewer than 5 processes a side trims nothing: Welch's
      t test. Not floored at 1/resamples as a bootstrap p-value would be:
      one case among hundreds can still pass the FDR control.
  bh_adjust(pvalues) -> adjusted p-values (Benjamini-Hochberg).
  t_two_sided(t, df) -> P(|T| >= |t|) for Student's t.
  judge(cases, margin, q) -> {case: {ratio, lo, hi, p, p_adj, verdict}}
      verdicts, in this order: "same" when the interval lies inside
      [1/(1+margin), 1+margin]; else "slower" (ratio > 1) or "faster" when
      the BH-adjusted p <= q across the cases of this one comparison and
      the interval excludes 1; else "unsure" (verdict() applies the rules
      to given figures).
  needs_more(groups, target) -> (bool, what)
      the adaptive stop rule: True while the median interval's half-width
      exceeds target x median (or there is one process); what is
      "processes" or "repetitions" (which would narrow it; see _what_helps),
      None when no more are needed.
Bad samples (no process, an empty process, a value that is not a finite
number > 0) raise BadSamples (a ValueError) with one line saying what.
"""
import functools
import math
import operator
import random
from array import array

SEED = 20261121  # fixed: the same samples give the same figures
RESAMPLES = 2000
LEVEL = 0.95
MARGIN = 0.02  # the equivalence margin: +-2% is "same"
FDR = 0.05  # the false-discovery rate controlled across one comparison
TARGET = 0.01  # the stop rule: an interval of +-1% of the median
TRIM = 0.2  # p_value trims this share of a side's processes from each end
VERDICTS = ("faster", "slower", "same", "unsure")


class BadSamples(ValueError):
    """Samples the module refuses; str() is one line."""


def _check(groups, what="samples"):
    """groups as a tuple of tuples of floats, or BadSamples."""
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__"):
        raise BadSamples("%s: a list of per-process lists of numbers is needed" % what)
    out = []
    for i, g in enumerate(groups):
        if isinstance(g, (str, bytes)) or not hasattr(g, "__iter__"):
            raise BadSamples("%s: process %d is not a list of numbers" % (what, i))
        g = tuple(g)
        if not g:
            raise BadSamples("%s: process %d has no sample" % (what, i))
        for x in g:
            if isinstance(x, bool) or not isinstance(x, (int, float)) \
                    or not math.isfinite(x) or x <= 0:
                raise BadSamples("%s: process %d holds %r, not a number > 0" % (what, i, x))
        out.append(tuple(float(x) for x in g))
    if not out:
        raise BadSamples("%s: no process" % what)
    return tuple(out)


def _median_sorted(xs):
    n = len(xs)
    h = n // 2
    return xs[h] if n % 2 else (xs[h - 1] + xs[h]) / 2.0


def _pooled(groups):
    return [x for g in groups for x in g]


@functools.lru_cache(maxsize=64)
def _patterns(sizes, resamples, seed):
    """The bootstrap's draws for a shape (the sizes of the processes), as
    index pickers into the pooled samples: each draws len(sizes) processes
    with replacement, then as many repetitions as each drawn process has,
    with replacement within it. They depend on the shape and the seed only,
    so cases of one shape share them (fast: itemgetter and sorted run in C)."""
    rng = random.Random(seed)
    rnd = rng.random
    k = len(sizes)
    starts = [sum(sizes[:j]) for j in range(k)]
    pickers = []
    for _ in range(resamples):
        idx = []
        for _ in range(k):
            j = int(rnd() * k)
            s, n = starts[j], sizes[j]
            idx += [s + int(rnd() * n) for _ in range(n)]
        if len(idx) == 1:
            i0 = idx[0]
            pickers.append(lambda xs, i0=i0: (xs[i0],))
        else:
            pickers.append(operator.itemgetter(*idx))
    return pickers


@functools.lru_cache(maxsize=2048)
def _boot(groups, resamples, seed):
    """The bootstrap medians of groups (a tuple of tuples) in draw order, as
    an array of doubles."""
    pooled = _pooled(groups)
    sizes = tuple(len(g) for g in groups)
    pickers = _patterns(sizes, resamples, seed)
    if len(set(sizes)) == 1 and len(pooled) % 2:  # every draw as long, odd: one index
        h = len(pooled) // 2
        return array("d", [sorted(pick(pooled))[h] for pick in pickers])
    return array("d", [_median_sorted(sorted(pick(pooled))) for pick in pickers])


def _percentiles(sorted_values, level):
    """(lo, hi) of the percentile interval at level."""
    b = len(sorted_values)
    tail = (1.0 - level) / 2.0
    lo = sorted_values[min(b - 1, int(tail * b))]
    hi = sorted_values[max(0, int(math.ceil((1.0 - tail) * b)) - 1)]
    return lo, hi


def _check_options(level, resamples):
    if not 0 < level < 1:
        raise BadSamples("level %r is not between 0 and 1" % (level,))
    if not isinstance(resamples, int) or resamples < 10:
        raise BadSamples("resamples %r is not a whole number of 10 or more" % (resamples,))


def median_interval(groups, level=LEVEL, resamples=RESAMPLES, seed=SEED):
    """(median of the pooled samples, lo, hi): the hierarchical bootstrap's
    percentile interval at level."""
    _check_options(level, resamples)
    groups = _check(groups)
    med = _median_sorted(sorted(_pooled(groups)))
    lo, hi = _percentiles(sorted(_boot(groups, resamples, seed)), level)
    return med, lo, hi


def _units(groups):
    """The independent units of a side: the log median of each process."""
    return [math.log(_median_sorted(sorted(g))) for g in groups]


def _mean_var(xs):
    """(mean, variance of the mean) of xs, len(xs) >= 2."""
    n = len(xs)
    m = math.fsum(xs) / n
    return m, math.fsum((x - m) ** 2 for x in xs) / (n - 1) / n


def _trimmed_mean_var(xs):
    """(trimmed mean, its squared standard error, values kept) of xs,
    len(xs) >= 2, as Yuen's test takes them: g = int(TRIM x n) values cut
    from each end for the mean; for the variance they are replaced by the
    nearest kept value (winsorized), and the winsorized variance scaled by
    (n - 1) / (h (h - 1)) for the h values kept. g = 0 (n < 5 at 20%):
    the mean and the variance of the mean, as _mean_var."""
    x = sorted(xs)
    n = len(x)
    g = int(TRIM * n)  # at 20%, at least 2 kept (h >= 0.6 n)
    h = n - 2 * g
    kept = x[g:n - g]
    w = [kept[0]] * g + kept + [kept[-1]] * g
    wm = math.fsum(w) / n
    sw2 = math.fsum((v - wm) ** 2 for v in w) / (n - 1)
    return math.fsum(kept) / h, (n - 1) * sw2 / (h * (h - 1.0)), h


def _betacf(a, b, x):
    """The continued fraction of the incomplete beta function (modified
    Lentz's method, Numerical Recipes 6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _betainc(a, b, x):
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided(t, df):
    """P(|T| >= |t|) for Student's t with df degrees of freedom (df > 0,
    not necessarily whole)."""
    return min(1.0, _betainc(df / 2.0, 0.5, df / (df + t * t)))


def p_value(groups, base_groups):
    """Two-sided p-value for "the two sides take the same time": Yuen's
    test on the units of each side (_units: the log median of each
    process): Welch's t on their 20%-trimmed means with winsorized
    variances (_trimmed_mean_var) and Welch-Satterthwaite degrees of
    freedom in the values kept. A side of fewer than 5 processes trims
    nothing, so 4 against 4 is Welch's t test. Trimmed because a case's
    processes here can be bimodal, some 10-20% slower: with a side of 32
    processes and one of 4, Welch's test gave p < 0.05 in 16-28% of
    made-up A/A trials drawn from skewed and bimodal process medians
    (sampled from real ones), and missed real 3% slowdowns whose
    intervals excluded 1 (one slow process in the variance); Yuen's gave
    3-9% and called them (docs/statistics.md). The process is
    the unit because processes differ more than repetitions within one
    (repetitions pooled across processes are not independent samples); a
    made-up A/A at 3 x 3 gives p < 0.05 in 3-5% of cases, where the
    hierarchical bootstrap's own variance gave 0-2% (it counts the
    within-process spread twice) and lost power. 1.0 when a side has one
    process: its repetitions are not independent samples, and nothing
    shows the spread between processes (a real A/A of one process per
    side called 261 of 400 cases faster or slower when repetitions were
    taken for units). Whole-process timings (hyperfine) are one group per
    run: each run is a process. 0.0 for a difference where neither side
    varies at all. Symmetric in its two sides."""
    ua, ub = _units(_check(groups)), _units(_check(base_groups, "base samples"))
    if len(ua) < 2 or len(ub) < 2:
        return 1.0
    (ma, va, ha), (mb, vb, hb) = _trimmed_mean_var(ua), _trimmed_mean_var(ub)
    se2 = va + vb
    if se2 <= 0.0:
        return 1.0 if ma == mb else 0.0
    df = se2 * se2 / (va * va / (ha - 1.0) + vb * vb / (hb - 1.0))
    return t_two_sided((ma - mb) / math.sqrt(se2), df)


def ratio_interval(groups, base_groups, level=LEVEL, resamples=RESAMPLES, seed=SEED):
    """(ratio, lo, hi, p): the ratio of pooled medians (groups over
    base_groups), its percentile interval (each side resampled on its own,
    hierarchically) and the two-sided p-value for ratio == 1 (p_value).
    The p-value is symmetric: swapping the sides gives the same p."""
    _check_options(level, resamples)
    ga, gb = _check(groups, "samples"), _check(base_groups, "base samples")
    ma, mb = _median_sorted(sorted(_pooled(ga))), _median_sorted(sorted(_pooled(gb)))
    boot_a, boot_b = _boot(ga, resamples, seed), _boot(gb, resamples, seed)
    # one seed for both sides, so each side's draws are its own whatever the
    # other; draw i of one side meets draw i+1 of the other: where both have
    # one shape, the same processes are not drawn together
    boot = sorted(map(operator.truediv, boot_a, boot_b[1:] + boot_b[:1]))
    lo, hi = _percentiles(boot, level)
    return ma / mb, lo, hi, p_value(ga, gb)


def bh_adjust(pvalues):
    """Benjamini-Hochberg adjusted p-values, in the order given: p_(i) * m /
    i, made monotone from the largest down, capped at 1."""
    ps = list(pvalues)
    for p in ps:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise BadSamples("p-value %r is not a number from 0 to 1" % (p,))
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    out = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        out[i] = min(1.0, running)
    return out


def verdict(ratio, lo, hi, p_adj, margin=MARGIN, q=FDR):
    """One case's verdict from its figures (the rules in judge)."""
    if 1.0 / (1.0 + margin) <= lo and hi <= 1.0 + margin:
        return "same"
    if p_adj <= q and ratio > 1.0 and lo > 1.0:
        return "slower"
    if p_adj <= q and ratio < 1.0 and hi < 1.0:
        return "faster"
    return "unsure"


def judge(cases, margin=MARGIN, q=FDR, level=LEVEL, resamples=RESAMPLES, seed=SEED):
    """{case: {"ratio", "lo", "hi", "p", "p_adj", "verdict"}} for cases
    {case: (groups, base_groups)}, the cases of ONE comparison (one column
    against its base). Verdicts, in this order:
      1. "same": the interval lies inside the equivalence margin
         [1/(1+margin), 1+margin] (margin 0.02: within about +-2%);
      2. "slower" (ratio > 1) or "faster" (ratio < 1): the p-value,
         Benjamini-Hochberg adjusted across all the cases given, is at most
         q, and the interval excludes 1;
      3. "unsure": neither (too few samples, or too much noise, to tell).
    So at most a share q of the cases called faster or slower are expected
    to be false discoveries. A side of one process is never "same" either
    (as its p-value is 1.0: nothing shows the spread between processes;
    PROCESSES=1 of one repetition gives an interval of no width)."""
    if not (isinstance(margin, (int, float)) and 0 <= margin < 1):
        raise BadSamples("margin %r is not a fraction from 0 to 1 (0.02 is 2%%)" % (margin,))
    if not (isinstance(q, (int, float)) and 0 < q < 1):
        raise BadSamples("q %r is not a false-discovery rate between 0 and 1" % (q,))
    out = {}
    for name, (groups, base) in cases.items():
        try:
            r, lo, hi, p = ratio_interval(groups, base, level, resamples, seed)
        except BadSamples as e:
            raise BadSamples("%s: %s" % (name, e))
        out[name] = {"ratio": r, "lo": lo, "hi": hi, "p": p}
    names = list(out)
    for name, adj in zip(names, bh_adjust(out[n]["p"] for n in names)):
        c = out[name]
        c["p_adj"] = adj
        c["verdict"] = verdict(c["ratio"], c["lo"], c["hi"], adj, margin, q)
        groups, base = cases[name]
        if c["verdict"] == "same" and min(len(groups), len(base)) < 2:
            # one process shows nothing of the spread between processes:
            # its interval (repetitions only; none at all from one value)
            # cannot say "same" any more than its p-value says "slower"
            c["verdict"] = "unsure"
    return out


def _what_helps(groups):
    """"repetitions" or "processes": which would narrow the interval more.
    On the log scale (times are relative), one-way analysis of variance:
    w = the pooled within-process variance of the repetitions, n the mean
    number of repetitions per process, v = the variance of the process
    means; the spread between processes is b = max(0, v - w/n). The
    variance of the overall estimate is about (b + w/n) / k: more
    processes shrink both terms, more repetitions only w/n. So
    "repetitions" when w/n > b (the within-process spread dominates), else
    "processes". With no process of 2 or more repetitions there is no w
    yet: "repetitions"."""
    logs = [[math.log(x) for x in g] for g in groups]
    ss, df = 0.0, 0
    for g in logs:
        if len(g) > 1:
            m = math.fsum(g) / len(g)
            ss += math.fsum((x - m) ** 2 for x in g)
            df += len(g) - 1
    if df == 0:
        return "repetitions"
    w = ss / df
    n = sum(len(g) for g in logs) / float(len(logs))
    means = [math.fsum(g) / len(g) for g in logs]
    mm = math.fsum(means) / len(means)
    v = math.fsum((x - mm) ** 2 for x in means) / (len(means) - 1)
    b = max(0.0, v - w / n)
    return "repetitions" if w / n > b else "processes"


@functools.lru_cache(maxsize=None)
def t_quantile(level, df):
    """The t with P(|T| <= t) = level for Student's t with df degrees of
    freedom (bisection on t_two_sided; remembered: a run asks for a few
    degrees of freedom thousands of times)."""
    lo, hi = 0.0, 1.0
    while t_two_sided(hi, df) > 1.0 - level:
        hi *= 2.0
    for _ in range(100):
        mid = (lo + hi) / 2.0
        if t_two_sided(mid, df) > 1.0 - level:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def process_half_width(groups, level=LEVEL):
    """The half-width, as a fraction, of the t interval of the trimmed
    mean of the units p_value tests (_units: each process's log median;
    _trimmed_mean_var, h - 1 degrees of freedom for the h kept): what a
    verdict's precision rests on. math.inf with fewer than 2 processes."""
    units = _units(_check(groups))
    if len(units) < 2:
        return math.inf
    _, var, h = _trimmed_mean_var(units)
    return math.expm1(t_quantile(level, h - 1) * math.sqrt(var))


def needs_more(groups, target=TARGET, level=LEVEL, resamples=RESAMPLES, seed=SEED,
               min_processes=3):
    """(True, what) while the median interval's half-width, (hi - lo) / 2,
    exceeds target x median, or the t interval of the process units (what
    p_value tests: process_half_width) is wider than target, or there are
    fewer than min_processes processes (one process cannot show the spread
    between processes: what is "processes"; two that agree by chance give
    an interval no wider than their gap); (False, None) when the samples
    suffice. The second condition keeps a side from stopping at three
    processes whose repetitions agree while their medians do not: the
    bootstrap interval, which resamples repetitions too, can be within the
    target there while Welch's test on three units has two degrees of
    freedom and cannot tell a 3% change (a planted 3% was called unsure
    at p 0.05 to 0.85 so, its interval excluding 1).
    what: "processes" or "repetitions" (_what_helps)."""
    return sampling(groups, target, level, resamples, seed, min_processes)[2:]


def sampling(groups, target=TARGET, level=LEVEL, resamples=RESAMPLES, seed=SEED,
             min_processes=3):
    """(median, half-width, needs more, what): needs_more's answer with the
    figures it rests on, each computed once. half-width, a fraction of
    the median: the wider of the median's interval and the process
    medians' t interval (the median's alone for one process)."""
    if not (isinstance(target, (int, float)) and target > 0):
        raise BadSamples("target %r is not a fraction above 0 (0.01 is +-1%%)" % (target,))
    groups = _check(groups)
    med, lo, hi = median_interval(groups, level, resamples, seed)
    half = (hi - lo) / 2.0 / med
    if len(groups) < 2:
        return med, half, True, "processes"
    half = max(half, process_half_width(groups, level))
    if len(groups) < min_processes:
        return med, half, True, _what_helps(groups)
    if half <= target:
        return med, half, False, None
    return med, half, True, _what_helps(groups)
