"""Reference values for `govcap_core::campaign::agreement`, written to reference.json.

Run from this folder with scikit-learn, krippendorff and numpy installed:

    pip install scikit-learn krippendorff numpy
    python make_reference.py

Kappa comes from `sklearn.metrics.cohen_kappa_score`, alpha from `krippendorff.alpha`; the
observed/expected agreement of a kappa (which scikit-learn does not return) is computed here
with numpy from scikit-learn's confusion matrix, using the agreement weights 1 - w / w_max.
The random cases use a fixed seed, so the file is the same on every run with the same
package versions.

Every float is written as a string holding Python's repr of it, which any correctly rounded
parser reads back to the same bits; serde_json's default number parser can be one ulp off,
which the 1e9-sized alpha case turns into a 5e-13 error. An undefined coefficient is "NaN"
(JSON has none), and a call that the package refuses is {"error": message}. Alpha's inputs are
coders x units (the package's layout), with null for a missing value.
"""

import json
import platform
import warnings
from importlib.metadata import version

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix

rng = np.random.default_rng(20240601)
WEIGHTS = {"none": None, "linear": "linear", "quadratic": "quadratic"}


def number(x):
    x = float(x)
    return "NaN" if np.isnan(x) else repr(x)


def agreement(y1, y2, weights):
    """Observed and expected agreement with agreement weights 1 - w / w_max."""
    c = confusion_matrix(y1, y2).astype(float)
    k = c.shape[0]
    i, j = np.indices((k, k))
    if weights is None:
        w = (i != j).astype(float)
    elif weights == "linear":
        w = np.abs(i - j).astype(float)
    else:
        w = ((i - j) ** 2).astype(float)
    w_max = w.max()
    if w_max == 0:
        return 1.0, 1.0
    n = c.sum()
    expected = np.outer(c.sum(axis=1), c.sum(axis=0)) / n
    return 1 - (w * c).sum() / n / w_max, 1 - (w * expected).sum() / n / w_max


def kappa_case(name, y1, y2):
    y1, y2 = np.asarray(y1).tolist(), np.asarray(y2).tolist()
    case = {"name": name, "kind": "kappa", "y1": y1, "y2": y2, "n": len(y1)}
    out = {}
    for key, w in WEIGHTS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kappa = cohen_kappa_score(y1, y2, weights=w)
        except ValueError as e:
            out[key] = {"error": str(e)}
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            po, pe = agreement(y1, y2, w)
        out[key] = {
            "kappa": number(kappa),
            "observed_agreement": number(po),
            "expected_agreement": number(pe),
        }
    case["expected"] = out
    return case


def alpha_case(name, data):
    data = np.asarray(data, dtype=float)
    counts = (~np.isnan(data)).sum(axis=0)
    pairable = counts >= 2
    case = {
        "name": name,
        "kind": "alpha",
        "coders_by_units": [[None if np.isnan(x) else number(x) for x in row] for row in data],
        "pairable_units": int(pairable.sum()),
        "values": int(counts[pairable].sum()),
    }
    for level in ("interval", "nominal"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
            case[level] = number(a)
        except ValueError as e:
            case[level] = {"error": str(e)}
    return case


def scotts_pi(a, b):
    """Scott's pi of two complete codings: chance from the pooled distribution, with replacement."""
    a, b = np.asarray(a), np.asarray(b)
    pooled = np.concatenate([a, b])
    p_e = sum((pooled == v).mean() ** 2 for v in np.unique(pooled))
    return float(((a == b).mean() - p_e) / (1 - p_e))


def with_missing(data, share):
    data = np.array(data, dtype=float)
    data[rng.random(data.shape) < share] = np.nan
    return data


def ordinal(n, levels, p):
    return rng.choice(np.arange(1, levels + 1), size=n, p=p)


def noisy_copy(y, levels, keep):
    """The second rater agrees with probability `keep`, else is off by one level."""
    step = rng.choice([-1, 1], size=len(y))
    other = np.clip(y + step, 1, levels)
    return np.where(rng.random(len(y)) < keep, y, other)


cases = []

# Binary indicators.
cases.append(kappa_case("binary random n=50", rng.integers(0, 2, 50), rng.integers(0, 2, 50)))
y = (rng.random(200) < 0.9).astype(int)
cases.append(kappa_case("binary skewed 90% yes n=200", y, np.where(rng.random(200) < 0.93, y, 1 - y)))
y = rng.integers(0, 2, 30)
cases.append(kappa_case("binary correlated n=30", y, np.where(rng.random(30) < 0.8, y, 1 - y)))
y = rng.integers(0, 2, 1000)
cases.append(kappa_case("binary correlated n=1000", y, np.where(rng.random(1000) < 0.7, y, 1 - y)))
cases.append(kappa_case("binary independent raters n=400", rng.integers(0, 2, 400), rng.integers(0, 2, 400)))

# Graded (ordinal) indicators with several skews.
for levels, p, n, keep in [
    (3, [1 / 3] * 3, 60, 0.7),
    (3, [0.7, 0.2, 0.1], 120, 0.8),
    (4, [0.1, 0.2, 0.3, 0.4], 80, 0.6),
    (4, [0.05, 0.05, 0.1, 0.8], 300, 0.85),
    (5, [0.2] * 5, 150, 0.5),
    (5, [0.4, 0.3, 0.15, 0.1, 0.05], 40, 0.75),
    (5, [0.05, 0.1, 0.2, 0.3, 0.35], 2000, 0.65),
]:
    y = ordinal(n, levels, p)
    skew = "uniform" if len(set(p)) == 1 else "skewed"
    cases.append(kappa_case(f"ordinal {levels} levels {skew} n={n}", y, noisy_copy(y, levels, keep)))
cases.append(kappa_case("ordinal 4 levels independent n=100", ordinal(100, 4, [0.25] * 4), ordinal(100, 4, [0.25] * 4)))

# Edge cases.
y = ordinal(25, 4, [0.25] * 4)
cases.append(kappa_case("perfect agreement 4 levels", y, y))
y = rng.integers(0, 2, 20)
cases.append(kappa_case("total disagreement binary", y, 1 - y))
y = ordinal(30, 3, [1 / 3] * 3)
cases.append(kappa_case("total disagreement 3 levels cyclic", y, y % 3 + 1))
cases.append(kappa_case("single category degenerate", [2] * 12, [2] * 12))
cases.append(kappa_case("n=1 agree", [1], [1]))
cases.append(kappa_case("n=1 disagree", [0], [1]))
cases.append(kappa_case("empty", [], []))
cases.append(kappa_case("unequal label sets", ordinal(50, 3, [1 / 3] * 3), ordinal(50, 3, [1 / 3] * 3) + 1))
cases.append(kappa_case("first rater one category", [1] * 15, ordinal(15, 3, [0.6, 0.3, 0.1])))
cases.append(kappa_case("ordinal with gap in used levels", rng.choice([1, 2, 5], 40), rng.choice([1, 2, 5], 40)))
cases.append(kappa_case("negative integer levels", rng.integers(-2, 2, 60), rng.integers(-2, 2, 60)))
cases.append(kappa_case(
    "sklearn docstring strings",
    ["negative", "positive", "negative", "neutral", "positive"],
    ["negative", "positive", "negative", "neutral", "negative"],
))
labels = np.array(["no", "partial", "yes"])
y = rng.integers(0, 3, 70)
cases.append(kappa_case("string levels", labels[y].tolist(), labels[noisy_copy(y + 1, 3, 0.7) - 1].tolist()))

# Continuous indicators (alpha); the package takes coders x units.
cases.append(alpha_case("2 coders no missing normal", rng.normal(50, 10, 30) + rng.normal(0, 3, (2, 30))))
cases.append(alpha_case("2 coders 20% missing", with_missing(rng.normal(0, 1, 40) + rng.normal(0, 0.5, (2, 40)), 0.2)))
cases.append(alpha_case("3 coders 25% missing", with_missing(rng.normal(100, 20, 50) + rng.normal(0, 10, (3, 50)), 0.25)))
cases.append(alpha_case("4 coders 10% missing", with_missing(rng.uniform(0, 1, 25) + rng.normal(0, 0.1, (4, 25)), 0.1)))
cases.append(alpha_case("5 coders 40% missing", with_missing(rng.normal(0, 5, 60) + rng.normal(0, 2, (5, 60)), 0.4)))
cases.append(alpha_case("negative values", -np.abs(rng.normal(1000, 300, 35)) + rng.normal(0, 50, (2, 35))))
cases.append(alpha_case("large values ~1e9 small spread", 1e9 + rng.normal(0, 1000, 30) + rng.normal(0, 100, (3, 30))))
cases.append(alpha_case("large magnitudes mixed", rng.choice([1, 1e3, 1e6, 1e8], 40) * (1 + rng.normal(0, 0.05, (2, 40)))))
cases.append(alpha_case("counts poisson", (rng.poisson(8, 45) + rng.integers(-1, 2, (2, 45))).clip(0)))
cases.append(alpha_case("ratios in [0,1] with missing", with_missing((rng.beta(2, 5, 50) + rng.normal(0, 0.05, (3, 50))).clip(0, 1), 0.15)))
y = rng.normal(10, 2, 20)
cases.append(alpha_case("perfect agreement", [y, y, y]))
y = rng.normal(0, 1, 30)
cases.append(alpha_case("systematic disagreement", [y, -y]))
cases.append(alpha_case("500 units 3 coders 30% missing", with_missing(rng.normal(0, 1, 500) + rng.normal(0, 0.7, (3, 500)), 0.3)))
cases.append(alpha_case("constant data", [[4.0] * 6, [4.0] * 6]))
cases.append(alpha_case("constant pairable values", [[4.0, 4.0, np.nan], [4.0, 4.0, 9.0]]))
cases.append(alpha_case("no pairable unit", [[1.0, np.nan, 3.0], [np.nan, 2.0, np.nan]]))
cases.append(alpha_case("single pairable unit", [[1.0, np.nan, 3.0], [2.0, 5.0, np.nan]]))
y = rng.integers(0, 2, 60)
y2 = np.where(rng.random(60) < 0.8, y, 1 - y)
cases.append(alpha_case("binary two coders (vs Scott's pi)", [y, y2]) | {"scotts_pi": number(scotts_pi(y, y2))})
cases.append(alpha_case("Krippendorff 2011 example", [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
]))

versions = {
    "python": platform.python_version(),
    "numpy": version("numpy"),
    "scikit-learn": version("scikit-learn"),
    "krippendorff": version("krippendorff"),
}
head = {"generator": "make_reference.py", "seed": 20240601, "versions": versions}
with open("reference.json", "w") as f:
    # One case a line: small enough to diff, without a line per value.
    f.write(json.dumps(head)[:-1] + ', "cases": [\n')
    f.write(",\n".join(json.dumps(c, allow_nan=False) for c in cases))
    f.write("\n]}\n")
print(f"{len(cases)} cases, {versions}")
