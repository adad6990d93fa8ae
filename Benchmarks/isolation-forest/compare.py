#!/usr/bin/env python3
"""Compare ModelLedger's Isolation Forest with scikit-learn's, on the same machine in the same run.

What is measured, and how:

1. Accuracy. For every CSV in the datasets folder (default: Benchmarks/datasets/adbench) and
   seeds 0-4, ModelLedger trains and scores through its real CLI (`ledger model train`, then
   `ledger model score --json`; 100 trees, 256 rows per tree, all rows fitted and scored), and
   scikit-learn runs `IsolationForest(n_estimators=100, max_samples=256, random_state=seed)`
   fitted on all rows, with `-score_samples(X)` as the anomaly score. Both are rated with AUC-ROC
   and average precision; standard deviations are over the seeds, population (ddof=0) as in
   the README's table. The check: ModelLedger's mean AUC-ROC must lie within
   max(0.01, 2 x scikit-learn's std) of the reference scikit-learn mean in the datasets' README.md.
   Average precision is reported, not checked.

2. Speed, one thread. For each dataset, alternating between the two so that machine noise hits
   both alike: ModelLedger via `ledger bench model --data ... --threads 1 --runs R --json`
   (in-process median times, after CSV parsing), and scikit-learn with n_jobs=1, timing fit and
   score_samples with time.perf_counter over R runs in this process, after the CSV is loaded.
   Reported: median fit + score seconds of each, and the ratio ours / scikit-learn.
   Target: a ratio of at most 1/3 on every dataset.

3. Scoring throughput, one thread. ModelLedger via `ledger bench model --rows 1000000
   --features 10 --threads 1 --runs 3 --json`; scikit-learn fits a 100-tree, 256-sample forest
   with n_jobs=1 on 1,000,000 x 10 uniform random rows and times score_samples on all of them
   (median of 3). Reported: rows per second of each, and the ratio ours / scikit-learn.
   Target: at least 5x.

Medians are reported because the machine is shared. The process exits 1 if an accuracy check
fails; the speed targets are reported, not enforced. With --json, standard output is one JSON
document with every figure and the environment, and the human tables go to standard error.

Usage (normally through the `run` script beside this file):
    python compare.py --ledger .build/release/ledger [--datasets DIR] [--seeds N] [--runs R]
                      [--skip-accuracy] [--skip-speed] [--json]
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
import threadpoolctl
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

TREES = 100
SAMPLES = 256
THROUGHPUT_ROWS = 1_000_000
THROUGHPUT_FEATURES = 10
THROUGHPUT_RUNS = 3
SPEED_TARGET_RATIO = 1 / 3  # ours / scikit-learn fit + score seconds, at most
THROUGHPUT_TARGET_RATIO = 5.0  # ours / scikit-learn rows per second, at least
MINIMUM_TOLERANCE = 0.01

SCRIPT_FOLDER = Path(__file__).resolve().parent
DEFAULT_DATASETS = SCRIPT_FOLDER.parent / "datasets" / "adbench"


# Where progress and tables go: standard output, or standard error when --json owns standard output.
OUTPUT = sys.stdout


def log(message=""):
    print(message, file=OUTPUT, flush=True)


# ---------------------------------------------------------------- inputs


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledger", required=True, help="path to the release-built ledger executable")
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS,
                        help="folder of CSVs (header f0..f{d-1},label) with the README.md reference table")
    parser.add_argument("--seeds", type=int, default=5, help="accuracy seeds 0..N-1 (default 5)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per dataset (default 5)")
    parser.add_argument("--skip-accuracy", action="store_true", help="skip the accuracy comparison")
    parser.add_argument("--skip-speed", action="store_true", help="skip the speed and throughput comparisons")
    parser.add_argument("--json", action="store_true", help="print one JSON document on standard output")
    arguments = parser.parse_args()
    if arguments.seeds < 1:
        parser.error("--seeds must be at least 1")
    if not 1 <= arguments.runs <= 25:
        parser.error("--runs must be 1 to 25")
    return arguments


def find_datasets(folder):
    paths = sorted(folder.glob("*.csv"), key=lambda path: path.stem.lower())
    if not paths:
        raise SystemExit(f"no CSV files in {folder}")
    return paths


def load_csv(path):
    """Return (features, labels) from a CSV whose header is f0,...,f{d-1},label."""
    with open(path) as file:
        header = file.readline().strip().split(",")
    if header[-1] != "label":
        raise SystemExit(f"{path}: the last column must be 'label', not {header[-1]!r}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return table[:, :-1], table[:, -1].astype(int)


def read_reference_table(readme_path):
    """Parse the scikit-learn reference columns from the datasets' README.md.

    Returns {dataset name: {"aucMean", "aucStd", "averagePrecision", "publishedAuc"}}, from rows like
    | cardio | 1831 | 21 | 0.0961 | 0.9319 | 0.9318 ± 0.0121 | 0.5634 |
    """
    references = {}
    if not readme_path.exists():
        return references
    row_pattern = re.compile(
        r"^\|\s*(?P<name>[^|]+?)\s*\|\s*\d+\s*\|\s*\d+\s*\|\s*[\d.]+\s*\|\s*(?P<published>[\d.]+)\s*\|"
        r"\s*(?P<mean>[\d.]+)\s*±\s*(?P<std>[\d.]+)\s*\|\s*(?P<ap>[\d.]+)\s*\|\s*$"
    )
    for line in readme_path.read_text().splitlines():
        match = row_pattern.match(line.strip())
        if match:
            references[match["name"]] = {
                "publishedAuc": float(match["published"]),
                "aucMean": float(match["mean"]),
                "aucStd": float(match["std"]),
                "averagePrecision": float(match["ap"]),
            }
    return references


# ---------------------------------------------------------------- running the two implementations


def run_ledger(ledger, arguments):
    """Run the ledger CLI and return its JSON output (the last line of standard output)."""
    completed = subprocess.run([ledger, *arguments], capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(
            f"ledger {' '.join(arguments)} failed ({completed.returncode}):\n{completed.stderr.strip()}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def ledger_accuracy(ledger, csv_path, seed, work_folder):
    model_path = Path(work_folder) / f"{csv_path.stem}-{seed}.model"
    run_ledger(ledger, ["model", "train", "--data", str(csv_path), "--label", "label",
                        "--trees", str(TREES), "--samples", str(SAMPLES), "--seed", str(seed),
                        "--out", str(model_path), "--json"])
    result = run_ledger(ledger, ["model", "score", "--model", str(model_path), "--data", str(csv_path),
                                 "--label", "label", "--json"])
    return result["aucRoc"], result["averagePrecision"]


def new_sklearn_forest(seed):
    return IsolationForest(n_estimators=TREES, max_samples=SAMPLES, random_state=seed, n_jobs=1)


def quiet_small_datasets():
    """scikit-learn warns when a dataset has fewer rows than max_samples (WBC: 223); both use all rows then."""
    warnings.filterwarnings("ignore", message=r"max_samples \(\d+\) is greater than the total number of samples")


def sklearn_accuracy(features, labels, seed):
    forest = new_sklearn_forest(seed).fit(features)
    anomaly_scores = -forest.score_samples(features)
    return roc_auc_score(labels, anomaly_scores), average_precision_score(labels, anomaly_scores)


def ledger_speed(ledger, csv_path, runs):
    return run_ledger(ledger, ["bench", "model", "--data", str(csv_path), "--label", "label",
                               "--trees", str(TREES), "--samples", str(SAMPLES), "--seed", "0",
                               "--threads", "1", "--runs", str(runs), "--json"])


def sklearn_speed(features, runs):
    """Median fit, score and fit + score seconds over `runs` runs, one thread."""
    fit_times, score_times, total_times = [], [], []
    for run in range(runs):
        start = time.perf_counter()
        forest = new_sklearn_forest(run).fit(features)
        fitted = time.perf_counter()
        forest.score_samples(features)
        scored = time.perf_counter()
        fit_times.append(fitted - start)
        score_times.append(scored - fitted)
        total_times.append(scored - start)
    return {
        "fitSeconds": statistics.median(fit_times),
        "scoreSeconds": statistics.median(score_times),
        "fitScoreSeconds": statistics.median(total_times),
    }


def sklearn_throughput(runs):
    """Median rows per second of score_samples on 1,000,000 x 10 uniform random rows."""
    generator = np.random.default_rng(0)
    features = generator.random((THROUGHPUT_ROWS, THROUGHPUT_FEATURES))
    forest = new_sklearn_forest(0).fit(features)
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        forest.score_samples(features)
        rates.append(THROUGHPUT_ROWS / (time.perf_counter() - start))
    return statistics.median(rates)


# ---------------------------------------------------------------- the three comparisons


def compare_accuracy(ledger, dataset_paths, seeds, references):
    rows = []
    with tempfile.TemporaryDirectory(prefix="iforest-compare-") as work_folder:
        for csv_path in dataset_paths:
            log(f"  accuracy: {csv_path.stem}")
            features, labels = load_csv(csv_path)
            ours_auc, ours_ap, sklearn_auc, sklearn_ap = [], [], [], []
            for seed in range(seeds):
                auc, ap = ledger_accuracy(ledger, csv_path, seed, work_folder)
                ours_auc.append(auc)
                ours_ap.append(ap)
                auc, ap = sklearn_accuracy(features, labels, seed)
                sklearn_auc.append(auc)
                sklearn_ap.append(ap)
            rows.append(accuracy_row(csv_path.stem, features.shape, ours_auc, ours_ap,
                                     sklearn_auc, sklearn_ap, references.get(csv_path.stem)))
    return rows


def accuracy_row(name, shape, ours_auc, ours_ap, sklearn_auc, sklearn_ap, reference):
    row = {
        "dataset": name,
        "rows": shape[0],
        "features": shape[1],
        "ours": {"aucRoc": ours_auc, "averagePrecision": ours_ap,
                 "aucMean": statistics.mean(ours_auc), "aucStd": statistics.pstdev(ours_auc),
                 "apMean": statistics.mean(ours_ap), "apStd": statistics.pstdev(ours_ap)},
        "sklearn": {"aucRoc": sklearn_auc, "averagePrecision": sklearn_ap,
                    "aucMean": statistics.mean(sklearn_auc), "aucStd": statistics.pstdev(sklearn_auc),
                    "apMean": statistics.mean(sklearn_ap), "apStd": statistics.pstdev(sklearn_ap)},
        "reference": reference,
    }
    # Without a reference row, fall back to the scikit-learn figures measured in this run.
    baseline_mean = reference["aucMean"] if reference else row["sklearn"]["aucMean"]
    baseline_std = reference["aucStd"] if reference else row["sklearn"]["aucStd"]
    row["aucDifference"] = abs(row["ours"]["aucMean"] - baseline_mean)
    row["aucTolerance"] = max(MINIMUM_TOLERANCE, 2 * baseline_std)
    row["passed"] = row["aucDifference"] <= row["aucTolerance"]
    baseline_ap = reference["averagePrecision"] if reference else row["sklearn"]["apMean"]
    row["apDifference"] = abs(row["ours"]["apMean"] - baseline_ap)
    return row


def compare_speed(ledger, dataset_paths, runs):
    rows = []
    for csv_path in dataset_paths:
        log(f"  speed: {csv_path.stem}")
        features, _ = load_csv(csv_path)
        ours = ledger_speed(ledger, csv_path, runs)
        theirs = sklearn_speed(features, runs)
        rows.append({
            "dataset": csv_path.stem,
            "rows": features.shape[0],
            "features": features.shape[1],
            "ours": {key: ours[key] for key in ("fitSeconds", "scoreSeconds", "fitScoreSeconds")},
            "sklearn": theirs,
            "ratio": ours["fitScoreSeconds"] / theirs["fitScoreSeconds"],
        })
        rows[-1]["metTarget"] = rows[-1]["ratio"] <= SPEED_TARGET_RATIO
    return rows


def compare_throughput(ledger):
    log("  throughput: ledger")
    ours = run_ledger(ledger, ["bench", "model", "--rows", str(THROUGHPUT_ROWS),
                               "--features", str(THROUGHPUT_FEATURES), "--trees", str(TREES),
                               "--samples", str(SAMPLES), "--threads", "1",
                               "--runs", str(THROUGHPUT_RUNS), "--json"])
    log("  throughput: scikit-learn")
    theirs = sklearn_throughput(THROUGHPUT_RUNS)
    ratio = ours["scoreRowsPerSecond"] / theirs
    return {
        "rows": THROUGHPUT_ROWS,
        "features": THROUGHPUT_FEATURES,
        "runs": THROUGHPUT_RUNS,
        "oursRowsPerSecond": ours["scoreRowsPerSecond"],
        "sklearnRowsPerSecond": theirs,
        "ratio": ratio,
        "metTarget": ratio >= THROUGHPUT_TARGET_RATIO,
    }


# ---------------------------------------------------------------- reporting


def environment(ledger):
    blas = [{key: library.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
            for library in threadpoolctl.threadpool_info()]
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "threadpoolctl": threadpoolctl.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpuCount": os.cpu_count(),
        "threadpools": blas,  # defaults; every measurement runs under threadpool_limits(1)
        "openblasEnvironment": {key: value for key, value in os.environ.items() if key.startswith("OPENBLAS_")},
        "ledger": str(Path(ledger).resolve()),
    }


def format_table(headers, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(cell).rjust(width) if index else str(cell).ljust(width)
                       for index, (cell, width) in enumerate(zip(line, widths)))
             for line in [headers, ["-" * width for width in widths], *rows]]
    return "\n".join(lines)


def mean_std(mean, std):
    return f"{mean:.4f} ± {std:.4f}"


def print_accuracy(rows, seeds):
    log(f"\nAccuracy: AUC-ROC over seeds 0-{seeds - 1} ({TREES} trees, {SAMPLES} rows per tree, fit and score all rows)")
    log("check: |ours - reference scikit-learn mean| <= max(0.01, 2 x reference std)")
    table = []
    for row in rows:
        reference = row["reference"]
        table.append([
            row["dataset"],
            mean_std(row["ours"]["aucMean"], row["ours"]["aucStd"]),
            mean_std(row["sklearn"]["aucMean"], row["sklearn"]["aucStd"]),
            f"{reference['aucMean']:.4f}" if reference else "(none)",
            f"{row['aucDifference']:.4f}",
            f"{row['aucTolerance']:.4f}",
            "pass" if row["passed"] else "FAIL",
        ])
    log(format_table(["dataset", "ours AUC", "sklearn AUC (now)", "sklearn ref", "|diff|", "tolerance", "check"],
                     table))
    log("\nAverage precision (informational)")
    table = []
    for row in rows:
        reference = row["reference"]
        table.append([
            row["dataset"],
            mean_std(row["ours"]["apMean"], row["ours"]["apStd"]),
            mean_std(row["sklearn"]["apMean"], row["sklearn"]["apStd"]),
            f"{reference['averagePrecision']:.4f}" if reference else "(none)",
            f"{row['apDifference']:.4f}",
        ])
    log(format_table(["dataset", "ours AP", "sklearn AP (now)", "sklearn ref", "|diff|"], table))


def print_speed(rows, runs):
    log(f"\nSpeed: one thread, median of {runs} runs, fit + score all rows, after loading the CSV"
        f" (target: ours / sklearn <= {SPEED_TARGET_RATIO:.3f})")
    table = []
    for row in rows:
        table.append([
            row["dataset"], row["rows"], row["features"],
            f"{row['ours']['fitSeconds'] * 1000:.1f}", f"{row['ours']['scoreSeconds'] * 1000:.1f}",
            f"{row['ours']['fitScoreSeconds'] * 1000:.1f}",
            f"{row['sklearn']['fitSeconds'] * 1000:.1f}", f"{row['sklearn']['scoreSeconds'] * 1000:.1f}",
            f"{row['sklearn']['fitScoreSeconds'] * 1000:.1f}",
            f"{row['ratio']:.3f}", "yes" if row["metTarget"] else "NO",
        ])
    log(format_table(["dataset", "rows", "feat", "ours fit ms", "ours score ms", "ours total ms",
                      "sklearn fit ms", "sklearn score ms", "sklearn total ms", "ours/sklearn", "target"],
                     table))


def print_throughput(result):
    log(f"\nScoring throughput: {result['rows']:,} uniform random rows x {result['features']} features,"
        f" {TREES} trees, one thread, median of {result['runs']} (target: ours / sklearn >= {THROUGHPUT_TARGET_RATIO:g}x)")
    log(format_table(["ours rows/s", "sklearn rows/s", "ours/sklearn", "target"], [[
        f"{result['oursRowsPerSecond']:,.0f}", f"{result['sklearnRowsPerSecond']:,.0f}",
        f"{result['ratio']:.2f}x", "yes" if result["metTarget"] else "NO",
    ]]))


def main():
    global OUTPUT
    arguments = parse_arguments()
    quiet_small_datasets()
    if arguments.json:
        OUTPUT = sys.stderr
    ledger = str(Path(arguments.ledger).resolve())
    if not os.access(ledger, os.X_OK):
        raise SystemExit(f"not an executable: {arguments.ledger}")
    dataset_paths = find_datasets(arguments.datasets)
    references = read_reference_table(arguments.datasets / "README.md")

    report = {"environment": environment(ledger), "trees": TREES, "samples": SAMPLES, "blasThreads": 1,
              "datasets": [path.stem for path in dataset_paths]}
    failed = False
    # One thread for BLAS too, so that scikit-learn is measured as ModelLedger is: on one core.
    with threadpoolctl.threadpool_limits(limits=1):
        if not arguments.skip_accuracy:
            log("Running the accuracy comparison")
            rows = compare_accuracy(ledger, dataset_paths, arguments.seeds, references)
            print_accuracy(rows, arguments.seeds)
            failed = not all(row["passed"] for row in rows)
            report["accuracy"] = {"seeds": list(range(arguments.seeds)), "minimumTolerance": MINIMUM_TOLERANCE,
                                  "passed": not failed, "datasets": rows}
        if not arguments.skip_speed:
            log("\nRunning the speed comparison")
            rows = compare_speed(ledger, dataset_paths, arguments.runs)
            print_speed(rows, arguments.runs)
            report["speed"] = {"runs": arguments.runs, "threads": 1, "targetRatio": SPEED_TARGET_RATIO,
                               "allMetTarget": all(row["metTarget"] for row in rows), "datasets": rows}
            throughput = compare_throughput(ledger)
            print_throughput(throughput)
            report["throughput"] = {"threads": 1, "targetRatio": THROUGHPUT_TARGET_RATIO, **throughput}

    if failed:
        log("\nAccuracy check FAILED on: "
            + ", ".join(row["dataset"] for row in report["accuracy"]["datasets"] if not row["passed"]))
    if arguments.json:
        print(json.dumps(report, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
