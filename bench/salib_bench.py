#!/usr/bin/env python3
"""Times SALib 1.6's Sobol' estimation on the model outputs of a govcap audit.

Called by `govcap-bench audit`. The input file holds one output per line in SALib's order
(for each base row: A, AB_1 .. AB_d, B; calc_second_order=False). Prints

    time <median milliseconds of SALib.analyze.sobol.analyze>
    salib <S1> <ST>        one line per factor, SALib's estimates
    numpy <Si> <STi>       one line per factor, COINr's formulas (what govcap computes)

SALib 1.6 is installed with pip if it is missing or another version is installed.
"""
import argparse
import importlib.metadata
import statistics
import subprocess
import sys
import time


def ensure_salib():
    try:
        version = importlib.metadata.version("SALib")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version is None or not version.startswith("1.6"):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "SALib==1.6.*"],
                       check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--d", type=int, required=True, help="number of factors")
    ap.add_argument("--n", type=int, required=True, help="base sample size N")
    ap.add_argument("--resamples", type=int, default=100, help="SALib num_resamples")
    ap.add_argument("--reps", type=int, default=5, help="timed runs (median)")
    ap.add_argument("file")
    a = ap.parse_args()
    ensure_salib()
    import numpy as np
    from SALib.analyze import sobol

    y = np.loadtxt(a.file)
    d, n = a.d, a.n
    if y.shape != (n * (d + 2),):
        sys.exit("expected %d outputs, found %d" % (n * (d + 2), y.size))
    problem = {"num_vars": d, "names": ["x%d" % i for i in range(d)], "bounds": [[0, 1]] * d}
    times = []
    for _ in range(a.reps):
        t = time.perf_counter()
        res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=a.resamples,
                            seed=1, print_to_console=False)
        times.append((time.perf_counter() - t) * 1e3)
    print("time %.3f" % statistics.median(times), flush=True)
    for s1, st in zip(res["S1"], res["ST"]):
        print("salib %r %r" % (float(s1), float(st)))
    # COINr's estimators on the same outputs (no centring, sample variance).
    rows = y.reshape(n, d + 2)
    ya, yb = rows[:, 0], rows[:, -1]
    var = np.var(np.r_[ya, yb], ddof=1)
    for i in range(d):
        yab = rows[:, 1 + i]
        si = np.mean(yb * (yab - ya)) / var
        sti = np.sum((ya - yab) ** 2) / (2 * n * var)
        print("numpy %r %r" % (float(si), float(sti)))


if __name__ == "__main__":
    main()
