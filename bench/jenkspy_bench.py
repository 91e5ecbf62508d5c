#!/usr/bin/env python3
"""Times jenkspy 0.4.1 natural breaks on input files (one number per line).

Called by `govcap-bench classify`; prints one line per file:
    <file> TAB <median milliseconds> TAB <breaks, space-separated, repr>
"""
import argparse
import statistics
import sys
import time

import jenkspy


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per file (median)")
    ap.add_argument("--single-above", type=int, default=20000,
                    help="files with more values than this are timed once")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    if jenkspy.__version__ != "0.4.1":
        sys.exit("jenkspy 0.4.1 is required, found %s" % jenkspy.__version__)
    for path in a.files:
        with open(path) as f:
            values = [float(line) for line in f if line.strip()]
        runs = 1 if len(values) > a.single_above else max(1, a.repeats)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            breaks = jenkspy.jenks_breaks(values, a.k)
            times.append((time.perf_counter() - t) * 1e3)
        print("%s\t%.3f\t%s" % (path, statistics.median(times),
                                " ".join(repr(float(b)) for b in breaks)), flush=True)


if __name__ == "__main__":
    main()
