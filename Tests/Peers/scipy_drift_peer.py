#!/usr/bin/env python3
"""scipy_drift_peer: SciPy's drift statistics, as a second opinion for LedgerML.DriftStatistics.

Reads one JSON object {"reference": [number, ...], "current": [number, ...], "bins": int (optional,
default 10)} from the file named by the first argument, or from standard input when there is none,
and prints one JSON object:

  ks               scipy.stats.ks_2samp(reference, current, method="asymp").statistic
  ksPValue         scipy.stats.ks_2samp(reference, current, method="asymp").pvalue, which SciPy
                   computes as kstwo.sf(ks, round(m*n/(m+n)))
  ksLimitPValue    scipy.stats.kstwobign.sf(sqrt(m*n/(m+n)) * ks), the Kolmogorov limit, for reference
  wasserstein      scipy.stats.wasserstein_distance(reference, current)
  psi              NumPy PSI to the definition in docs/drift.md (see psi() below)
  scipy, numpy     versions

Floats are written with repr (17 significant digits, exact round trip). Exit codes: 0 = printed,
2 = bad input or SciPy missing (message on standard error).

Tested with scipy==1.17.1 and numpy==2.4.6.
"""

import json
import math
import sys

EPSILON = 1e-4


def psi(reference, current, bins, np):
    """PSI over quantile bins of the reference, as docs/drift.md defines it.

    Edges: np.quantile(reference, [1/bins, ..., (bins-1)/bins]) with NumPy's default "linear"
    method; equal edges collapse (np.unique). Bins are closed on the right, (e_{i-1}, e_i], so
    searchsorted(edges, x, side="left") is the bin index. EPSILON is added to every share.
    """
    quantiles = np.arange(1, bins) / bins
    edges = np.unique(np.quantile(reference, quantiles))
    ref_counts = np.bincount(np.searchsorted(edges, reference, side="left"), minlength=len(edges) + 1)
    cur_counts = np.bincount(np.searchsorted(edges, current, side="left"), minlength=len(edges) + 1)
    r = ref_counts / len(reference) + EPSILON
    c = cur_counts / len(current) + EPSILON
    return float(np.sum((c - r) * np.log(c / r)))


def main() -> int:
    try:
        import numpy as np
        import scipy
        from scipy import stats
    except ImportError as error:
        print(f"SciPy is not installed: {error}", file=sys.stderr)
        return 2
    try:
        if len(sys.argv) > 1:
            with open(sys.argv[1], encoding="utf-8") as handle:
                request = json.load(handle)
        else:
            request = json.load(sys.stdin)
        reference = np.asarray([float(value) for value in request["reference"]], dtype=np.float64)
        current = np.asarray([float(value) for value in request["current"]], dtype=np.float64)
        bins = int(request.get("bins", 10))
        if len(reference) == 0 or len(current) == 0:
            raise ValueError("both samples must be non-empty")
        if not (np.all(np.isfinite(reference)) and np.all(np.isfinite(current))):
            raise ValueError("every value must be finite")
        if bins < 2:
            raise ValueError("bins must be at least 2")
    except (ValueError, KeyError, TypeError, OSError) as error:
        print(f"bad input: {error}", file=sys.stderr)
        return 2
    ks = stats.ks_2samp(reference, current, method="asymp")
    m, n = float(len(reference)), float(len(current))
    en = m * n / (m + n)
    result = {
        "ks": float(ks.statistic),
        "ksPValue": float(ks.pvalue),
        "ksLimitPValue": float(stats.kstwobign.sf(math.sqrt(en) * float(ks.statistic))),
        "wasserstein": float(stats.wasserstein_distance(reference, current)),
        "psi": psi(reference, current, bins, np),
        "scipy": scipy.__version__,
        "numpy": np.__version__,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
