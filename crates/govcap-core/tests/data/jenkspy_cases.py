#!/usr/bin/env python3
"""Regenerates jenkspy_cases.txt: natural breaks computed by jenkspy 0.4.1 on random data.

    pip install jenkspy==0.4.1 && python3 jenkspy_cases.py > jenkspy_cases.txt

The cases stress what makes exact agreement hard: integer data with many duplicates,
rounded scores with ties, symmetric data with equal-cost partitions, data far from zero
(where jenkspy's own rounding decides), tiny and negative values, and n up to 2000.

Format, one record per line:
    V <kind> v1 v2 ...        a value set (repr of each float, so it parses back exactly)
    B <k> b0 b1 ... bk        jenkspy.jenks_breaks(values, k) for the value set above
"""
import random
import sys

import jenkspy

assert jenkspy.__version__ == "0.4.1", jenkspy.__version__

rng = random.Random(20240601)


def fmt(x):
    r = repr(float(x))
    return r[:-2] if r.endswith(".0") else r


def values_of(kind, n):
    if kind == "uniform":
        return [rng.uniform(0, 100) for _ in range(n)]
    if kind == "score2dp":
        return [round(min(100, max(0, rng.gauss(70, 8))), 2) for _ in range(n)]
    if kind == "score1dp":
        return [round(min(100, max(0, rng.gauss(65, 10))), 1) for _ in range(n)]
    if kind == "int-small":
        return [rng.randint(0, rng.randint(3, 12)) for _ in range(n)]
    if kind == "int-100":
        return [rng.randint(0, 100) for _ in range(n)]
    if kind == "int-skewed":
        return [int(rng.expovariate(0.3)) for _ in range(n)]
    if kind == "symmetric":
        m = rng.randint(3, 9)
        return [rng.randint(1, m) * 2 for _ in range(n)]
    if kind == "clusters":
        centres = [rng.uniform(0, 100) for _ in range(rng.randint(2, 6))]
        return [round(rng.choice(centres) + rng.gauss(0, 2), 3) for _ in range(n)]
    if kind == "offset":
        return [10000 + round(rng.uniform(0, 5), 2) for _ in range(n)]
    if kind == "tiny":
        return [round(rng.uniform(0, 1), 4) * 1e-3 for _ in range(n)]
    if kind == "negative":
        return [round(rng.gauss(0, 30), 1) for _ in range(n)]
    if kind == "egdi-like":
        return [round(rng.betavariate(4, 2.5), 4) for _ in range(n)]
    raise ValueError(kind)


KINDS = ["uniform", "score2dp", "score1dp", "int-small", "int-100", "int-skewed",
         "symmetric", "clusters", "offset", "tiny", "negative", "egdi-like"]


def main():
    out = sys.stdout
    sizes = [rng.randint(2, 40) for _ in range(150)]
    sizes += [rng.randint(41, 400) for _ in range(80)]
    sizes += [rng.randint(401, 1200) for _ in range(12)]
    sizes += [2000, 1500, 1999]
    for case, n in enumerate(sizes):
        kind = KINDS[case % len(KINDS)]
        if kind == "uniform" and n > 400:
            kind = "score2dp"  # full-precision floats make the fixture large
        vals = values_of(kind, n)
        distinct = len(set(vals))
        ks = [k for k in range(2, 9) if k <= distinct]
        if not ks:
            continue
        if n > 400:
            ks = [k for k in ks if k in (2, 4, 5, 8)]
        out.write("V " + kind + " " + " ".join(fmt(v) for v in vals) + "\n")
        for k in ks:
            b = jenkspy.jenks_breaks(vals, k)
            out.write("B %d %s\n" % (k, " ".join(fmt(x) for x in b)))


if __name__ == "__main__":
    main()
