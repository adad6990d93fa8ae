#!/usr/bin/env python3
"""sklearn_metrics_peer: scikit-learn's ranking metrics, as a second opinion for LedgerML.Metrics.

Reads one JSON object {"scores": [number, ...], "labels": [0 or 1, ...]} on standard input and
prints one JSON object {"roc_auc": float, "average_precision": float, "sklearn": version} with
`sklearn.metrics.roc_auc_score` and `sklearn.metrics.average_precision_score`, floats written with
repr (17 significant digits, exact round trip). Exit codes: 0 = printed, 2 = bad input or scikit-learn
missing (message on standard error).

Tested with scikit-learn==1.9.1 and, as pip resolved them, numpy==2.4.6, scipy==1.17.1,
joblib==1.6.0, threadpoolctl==3.8.0, narwhals==2.29.0, cloudpickle==3.1.3.
"""

import json
import sys


def main() -> int:
    try:
        import sklearn
        from sklearn.metrics import average_precision_score, roc_auc_score
    except ImportError as error:
        print(f"scikit-learn is not installed: {error}", file=sys.stderr)
        return 2
    try:
        request = json.load(sys.stdin)
        scores = [float(value) for value in request["scores"]]
        labels = [int(value) for value in request["labels"]]
        if len(scores) != len(labels) or any(label not in (0, 1) for label in labels):
            raise ValueError("scores and labels must have the same length and labels must be 0 or 1")
    except (ValueError, KeyError, TypeError) as error:
        print(f"bad input: {error}", file=sys.stderr)
        return 2
    result = {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
        "sklearn": sklearn.__version__,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
