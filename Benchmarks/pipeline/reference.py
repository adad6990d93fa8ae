#!/usr/bin/env python3
"""One weekly ModelLedger pipeline run, written plainly with pandas and scikit-learn: the baseline
that Benchmarks/pipeline/compare.py times `ledger` against.

It does the work of a weekly run on the window [--from, --to), in the order the pipeline does it,
and times each stage with time.perf_counter:

  extract   audit/extract.sql, run as is with sqlite3 and pandas.read_sql, over
            [from - lookback, to): the 14 days before the window are the features' history.
  features  the ten features of audit/features.v1.json, one row per (actor, UTC hour) holding
            events whose hour starts at or after --from, ordered by hour then actor id (as UTF-8
            bytes); the label; and the holdout split of Sources/LedgerAudit/DatasetBuilder.swift
            (the last 20 % of [from, to), floored to a whole UTC hour).
  champion  (with --champion FILE) loads the deployed model and its training rows, as the
            pipeline reads its champion's model and training data from the artifact store.
  drift     per feature, and over the champion's anomaly scores: PSI over 10 quantile bins of the
            reference, scipy.stats.ks_2samp (asymptotic p-value) and
            scipy.stats.wasserstein_distance, between the champion's training rows (the
            reference) and the new training rows, as docs/drift.md defines them.
  train     IsolationForest(n_estimators=100, max_samples=256, max_features=1.0, n_jobs=1) on the
            training rows (holdout 0, labelled or not); an empty cell (total_bytes of a window
            with no bytes) is read as 0, as ModelLedger's TrainingData does.
  evaluate  candidate and champion scored on the labelled holdout rows: AUC-ROC, average
            precision, precision@k and recall@k with k = ceil(0.05 x rows), and a paired
            bootstrap of the AUC-ROC difference (1000 replicates drawn with a seeded
            numpy.random.default_rng, resamples holding one class redrawn, 95 % percentile
            interval), as Sources/LedgerPipeline/Evaluation.swift does.

totalSeconds is the sum of these stages. Preparing the champion in this process (with
--champion-from/--champion-to: extract, features and training over the previous window) is not
part of it, because the pipeline loads its champion instead of training it; it is reported
apart as championPreparationSeconds. --save-champion writes the prepared champion to a file that
a later run reads with --champion (compare.py does this, so that the process it times does not
train the champion either).

--check-dataset CSV compares the feature matrix (holdout, the ten features, label; same rows in
the same order) with a dataset CSV that `ledger dataset build` wrote, to 1e-9, and exits 1 on
any difference: it shows that both do the same work. The check is not timed.

Output: a summary, or with --json one JSON object (stage seconds, total, row counts, metrics).

Usage:
    python reference.py --db audit.db --from 2026-02-16 --to 2026-02-23 \\
        [--champion-from 2026-02-09 --champion-to 2026-02-16 | --champion FILE] \\
        [--save-champion FILE] [--check-dataset CSV] [--seed S] [--json]
"""

import argparse
import json
import math
import pickle
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
QUERY = (ROOT / "audit" / "extract.sql").read_text()
SPEC = json.loads((ROOT / "audit" / "features.v1.json").read_text())

FEATURES = [feature["name"] for feature in SPEC["features"]]
LOOKBACK = pd.Timedelta(days=SPEC["history"]["lookbackDays"])
MINIMUM_HISTORY = SPEC["history"]["minimumEvents"]
ADMIN_ACTIONS = SPEC["adminActions"]
HOLDOUT_FRACTION = 0.2
ALERT_BUDGET = 0.05
REPLICATES = 1000
CONFIDENCE = 0.95
PSI_BINS = 10
PSI_EPSILON = 1e-4
TOLERANCE = 1e-9
EPOCH = pd.Timestamp(0, tz="UTC")


def utc(text):
    """An ISO 8601 date or time; one without an offset is UTC."""
    timestamp = pd.Timestamp(text)
    return timestamp.tz_localize("UTC") if timestamp.tzinfo is None else timestamp.tz_convert("UTC")


def sql_time(timestamp):
    """The Audit DB's time form, 'YYYY-MM-DDTHH:MM:SS.mmmZ', which the query compares as text."""
    return timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- extraction


def extract(db, start, end):
    """The rows of audit/extract.sql over [start, end)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return pd.read_sql(QUERY, connection, params={"from": sql_time(start), "to": sql_time(end)})


# ---------------------------------------------------------------- features


def history_counts(counts, keys):
    """For each row of `counts` (one per keys + hour, with its event count n): the events with the
    same keys in the LOOKBACK before that hour, [hour - LOOKBACK, hour).

    `counts` must be sorted by keys, then hour (as a groupby's output is); groupby(sort=False) then
    returns the rolled values in the same order."""
    rolled = counts.groupby(keys, sort=False).rolling(LOOKBACK, on="hour", closed="left")["n"].sum()
    return rolled.fillna(0).to_numpy()


def new_value_windows(events, column):
    """Per (actor, hour): whether one of its events has a `column` value that none of the actor's
    events in the LOOKBACK before the hour has. Nulls never count."""
    seen = events.dropna(subset=[column]).groupby(["actor_id", column, "hour"]).size().reset_index()
    previous = seen.groupby(["actor_id", column], sort=False)["hour"].shift()
    seen["new"] = previous.isna() | (previous < seen["hour"] - LOOKBACK)
    return seen.groupby(["actor_id", "hour"])["new"].any()


def holdout_start(window_from, window_to):
    """DatasetBuilder's split: 1 - HOLDOUT_FRACTION of the eligible range, in whole milliseconds rounded
    down, then down to a whole UTC hour."""
    millisecond, hour = pd.Timedelta(milliseconds=1), 3_600_000
    eligible = (window_from - EPOCH) // millisecond
    offset = math.floor((1 - HOLDOUT_FRACTION) * float((window_to - EPOCH) // millisecond - eligible))
    return EPOCH + (eligible + offset) // hour * hour * millisecond


def build_dataset(events, window_from, window_to):
    """The dataset of audit/features.v1.json: columns hour, actor_id, holdout, FEATURES, label."""
    events = events.copy()
    events["time"] = pd.to_datetime(events["occurred_at"], format="ISO8601", utc=True)
    events["hour"] = events["time"].dt.floor("h")
    events["quarter"] = events["time"].dt.hour * 4 + events["time"].dt.minute // 15
    events["failure"] = events["outcome"] == "failure"
    events["denied"] = events["outcome"] == "denied"
    events["admin_by_non_admin"] = events["action"].isin(ADMIN_ACTIONS) & (events["actor_role"] != "admin")
    events["label_rank"] = events["label"].map({"benign": 1, "anomalous": 2}).fillna(0)

    windows = events.groupby(["actor_id", "hour"]).agg(
        n=("id", "size"),
        distinct_actions=("action", "nunique"),
        distinct_resources=("resource", "nunique"),
        failures=("failure", "sum"),
        denials=("denied", "sum"),
        total_bytes=("bytes", "sum"),
        bytes_present=("bytes", "count"),
        admin_actions_by_non_admin=("admin_by_non_admin", "sum"),
        label_rank=("label_rank", "max"),
    ).reset_index()

    # off_hours_share: an event is off-hours when its quarter-hour of the day holds fewer than
    # 1/192 of the actor's history events, judged only with at least MINIMUM_HISTORY of them.
    windows["history"] = history_counts(windows, ["actor_id"])
    quarters = events.groupby(["actor_id", "quarter", "hour"]).size().rename("n").reset_index()
    quarters["in_quarter"] = history_counts(quarters, ["actor_id", "quarter"])
    quarters = quarters.merge(windows[["actor_id", "hour", "history"]], on=["actor_id", "hour"])
    off = (quarters["history"] >= MINIMUM_HISTORY) & (192 * quarters["in_quarter"] < quarters["history"])
    quarters["off_hours"] = quarters["n"].where(off, 0)
    windows = windows.merge(quarters.groupby(["actor_id", "hour"], as_index=False)["off_hours"].sum(),
                            on=["actor_id", "hour"])

    windows = windows.join(new_value_windows(events, "source_ip").rename("new_ip"), on=["actor_id", "hour"])
    windows = windows.join(new_value_windows(events, "country").rename("new_country"), on=["actor_id", "hour"])

    windows = windows[windows["hour"] >= window_from].sort_values(["hour", "actor_id"], ignore_index=True)
    dataset = pd.DataFrame({
        "hour": windows["hour"],
        "actor_id": windows["actor_id"],
        "holdout": (windows["hour"] >= holdout_start(window_from, window_to)).astype(int),
        "event_count": windows["n"],
        "distinct_actions": windows["distinct_actions"],
        "distinct_resources": windows["distinct_resources"],
        "failure_ratio": windows["failures"] / windows["n"],
        "denial_ratio": windows["denials"] / windows["n"],
        "off_hours_share": windows["off_hours"] / windows["n"],
        "new_ip": windows["new_ip"].fillna(False).astype(int),
        "new_country": windows["new_country"].fillna(False).astype(int),
        "total_bytes": windows["total_bytes"].where(windows["bytes_present"] > 0),
        "admin_actions_by_non_admin": windows["admin_actions_by_non_admin"],
        "label": windows["label_rank"].map({2: 1.0, 1: 0.0}),  # unlabelled windows: NaN
    })
    return dataset


def split(dataset):
    """(training rows, labelled holdout rows, their labels), with empty cells read as 0."""
    train = dataset.loc[dataset["holdout"] == 0, FEATURES].fillna(0).to_numpy(dtype=float)
    labelled = dataset[(dataset["holdout"] == 1) & dataset["label"].notna()]
    return train, labelled[FEATURES].fillna(0).to_numpy(dtype=float), labelled["label"].to_numpy(dtype=int)


# ---------------------------------------------------------------- model, evaluation, drift


def fit_forest(train, seed):
    forest = IsolationForest(n_estimators=100, max_samples=256, max_features=1.0, random_state=seed, n_jobs=1)
    return forest.fit(train)


def anomaly_scores(forest, rows):
    return -forest.score_samples(rows)  # higher is more anomalous


def metrics(scores, labels, k):
    top = np.argsort(-scores, kind="stable")[:k]  # ties by row order, as ModelLedger ranks them
    return {
        "aucRoc": roc_auc_score(labels, scores),
        "averagePrecision": average_precision_score(labels, scores),
        "precisionAtK": labels[top].sum() / k,
        "recallAtBudget": labels[top].sum() / labels.sum(),
    }


def paired_bootstrap(candidate, champion, labels, seed):
    """The 95 % percentile interval of AUC(candidate) - AUC(champion) over paired resamples."""
    generator = np.random.default_rng(seed)
    rows = len(labels)
    differences = []
    while len(differences) < REPLICATES:
        sample = generator.integers(0, rows, rows)
        drawn = labels[sample]
        if drawn.min() == drawn.max():
            continue  # one class only: no AUC; draw again
        differences.append(roc_auc_score(drawn, candidate[sample]) - roc_auc_score(drawn, champion[sample]))
    tail = (1 - CONFIDENCE) / 2 * 100
    lower, upper = np.percentile(differences, [tail, 100 - tail])
    return lower, upper


def psi(reference, current):
    edges = np.unique(np.quantile(reference, np.arange(1, PSI_BINS) / PSI_BINS))
    # Bins closed on the right: a value equal to an edge falls in the bin to its left.
    reference_share = np.bincount(np.searchsorted(edges, reference), minlength=len(edges) + 1) / len(reference)
    current_share = np.bincount(np.searchsorted(edges, current), minlength=len(edges) + 1) / len(current)
    ratio = (current_share + PSI_EPSILON) / (reference_share + PSI_EPSILON)
    return float(np.sum((current_share - reference_share) * np.log(ratio)))


def drift(reference, current):
    ks = stats.ks_2samp(reference, current, method="asymp")
    return {"psi": psi(reference, current), "ks": float(ks.statistic), "ksPValue": float(ks.pvalue),
            "wasserstein": float(stats.wasserstein_distance(reference, current))}


def measure_drift(champion, train):
    features = {name: drift(champion["train"][:, column], train[:, column]) for column, name in enumerate(FEATURES)}
    scores = drift(anomaly_scores(champion["forest"], champion["train"]), anomaly_scores(champion["forest"], train))
    largest = max([scores["psi"]] + [statistics["psi"] for statistics in features.values()])
    return {"features": features, "scores": scores, "maxPsi": largest}


# ---------------------------------------------------------------- the dataset check


def check_dataset(dataset, csv_path):
    """Differences between our feature matrix and a ModelLedger dataset CSV: (rows compared, messages)."""
    theirs = pd.read_csv(csv_path, dtype=float)
    columns = ["holdout", *FEATURES, "label"]
    if list(theirs.columns) != columns:
        return 0, [f"columns differ: {list(theirs.columns)}"]
    if len(theirs) != len(dataset):
        return 0, [f"{len(dataset)} rows here, {len(theirs)} in {csv_path}"]
    ours = dataset[columns].to_numpy(dtype=float)
    expected = theirs.to_numpy()
    same = (np.isnan(ours) & np.isnan(expected)) | (np.abs(ours - expected) <= TOLERANCE)
    messages = []
    for row, column in zip(*np.nonzero(~same)):
        if len(messages) == 10:
            messages.append(f"... {int((~same).sum()) - 10} more")
            break
        window = f"{dataset['actor_id'].iat[row]}, {dataset['hour'].iat[row]:%Y-%m-%dT%H}h"
        messages.append(f"data row {row + 1} ({window}): {columns[column]} is {float(ours[row, column])!r} here,"
                        f" {float(expected[row, column])!r} in the CSV")
    return len(theirs), messages


# ---------------------------------------------------------------- the run


def prepare_champion(db, champion_from, champion_to, seed):
    """The previous window's model and training rows: what the pipeline finds deployed."""
    events = extract(db, champion_from - LOOKBACK, champion_to)
    train, _, _ = split(build_dataset(events, champion_from, champion_to))
    return {"window": [str(champion_from), str(champion_to)], "train": train, "forest": fit_forest(train, seed)}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="the Audit DB (SQLite)")
    parser.add_argument("--from", dest="window_from", type=utc, help="the window's inclusive start (UTC)")
    parser.add_argument("--to", dest="window_to", type=utc, help="the window's exclusive end (UTC)")
    parser.add_argument("--champion-from", type=utc, help="the champion's window: train it here, untimed")
    parser.add_argument("--champion-to", type=utc)
    parser.add_argument("--champion", type=Path, help="load a champion written by --save-champion (timed)")
    parser.add_argument("--save-champion", type=Path, help="write the champion prepared here to this file")
    parser.add_argument("--check-dataset", type=Path, metavar="CSV",
                        help="compare the feature matrix with this ModelLedger dataset CSV; exit 1 if it differs")
    parser.add_argument("--seed", type=int, default=0, help="the forests' random_state and the bootstrap's seed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    arguments = parser.parse_args()
    if (arguments.champion_from is None) != (arguments.champion_to is None):
        parser.error("--champion-from and --champion-to go together")
    if arguments.champion and arguments.champion_from is not None:
        parser.error("--champion and --champion-from/--champion-to exclude each other")
    if arguments.save_champion and arguments.champion_from is None:
        parser.error("--save-champion needs --champion-from and --champion-to")
    if (arguments.window_from is None) != (arguments.window_to is None):
        parser.error("--from and --to go together")
    if arguments.window_from is None and not arguments.save_champion:
        parser.error("--from and --to are required unless only saving a champion")
    if arguments.window_from is not None and arguments.window_to - arguments.window_from <= pd.Timedelta(0):
        parser.error("--to must be after --from")
    return arguments


def main():
    arguments = parse_arguments()
    report = {}

    champion = None
    if arguments.champion_from is not None:
        started = time.perf_counter()
        champion = prepare_champion(arguments.db, arguments.champion_from, arguments.champion_to, arguments.seed)
        report["championPreparationSeconds"] = time.perf_counter() - started
        if arguments.save_champion:
            with open(arguments.save_champion, "wb") as file:
                pickle.dump(champion, file)
        if arguments.window_from is None:
            print(json.dumps(report) if arguments.json else f"champion written to {arguments.save_champion}")
            return 0

    seconds = {}

    def stage(name, started):
        seconds[name] = time.perf_counter() - started
        return time.perf_counter()

    started = time.perf_counter()
    events = extract(arguments.db, arguments.window_from - LOOKBACK, arguments.window_to)
    started = stage("extract", started)
    dataset = build_dataset(events, arguments.window_from, arguments.window_to)
    train, holdout, labels = split(dataset)
    started = stage("features", started)
    if arguments.champion:
        with open(arguments.champion, "rb") as file:
            champion = pickle.load(file)
        started = stage("champion", started)
    if champion is not None:
        report["drift"] = measure_drift(champion, train)
        started = stage("drift", started)
    forest = fit_forest(train, arguments.seed)
    started = stage("train", started)
    product = ALERT_BUDGET * len(labels)  # k = ceil(budget x rows), within 1e-9 as Metrics.alertCount
    k = min(len(labels), max(1, math.ceil(product - product * 1e-9)))
    if len(np.unique(labels)) == 2:  # as in ModelLedger, no metrics without both classes
        candidate_scores = anomaly_scores(forest, holdout)
        report["candidate"] = metrics(candidate_scores, labels, k)
        if champion is not None:
            champion_scores = anomaly_scores(champion["forest"], holdout)
            report["champion"] = metrics(champion_scores, labels, k)
            lower, upper = paired_bootstrap(candidate_scores, champion_scores, labels, arguments.seed)
            report["difference"] = {"aucRoc": report["candidate"]["aucRoc"] - report["champion"]["aucRoc"],
                                    "lower": lower, "upper": upper}
    stage("evaluate", started)

    report.update({
        "window": {"from": str(arguments.window_from), "to": str(arguments.window_to),
                   "holdoutFrom": str(holdout_start(arguments.window_from, arguments.window_to))},
        "stages": seconds,
        "totalSeconds": sum(seconds.values()),
        "rows": {"extracted": len(events), "train": len(train), "holdout": int(dataset["holdout"].sum()),
                 "holdoutLabelled": len(labels), "holdoutAnomalous": int(labels.sum()), "k": k},
    })

    failed = False
    if arguments.check_dataset:
        compared, differences = check_dataset(dataset, arguments.check_dataset)
        report["datasetCheck"] = {"csv": str(arguments.check_dataset), "rows": compared,
                                  "tolerance": TOLERANCE, "matched": not differences, "differences": differences}
        failed = bool(differences)

    if arguments.json:
        print(json.dumps(report, default=float))
    else:
        print_summary(report)
    return 1 if failed else 0


def print_summary(report):
    rows = report["rows"]
    window = report["window"]
    print(f"window {window['from']} .. {window['to']}, holdout from {window['holdoutFrom']}")
    print(f"rows: {rows['extracted']} extracted, {rows['train']} train, {rows['holdout']} holdout"
          f" ({rows['holdoutLabelled']} labelled, {rows['holdoutAnomalous']} anomalous), k = {rows['k']}")
    for name, value in report["stages"].items():
        print(f"  {name:<9} {value:8.3f} s")
    print(f"  {'total':<9} {report['totalSeconds']:8.3f} s")
    for model in ("candidate", "champion"):
        if model in report:
            values = report[model]
            print(f"{model}: AUC-ROC {values['aucRoc']:.4f}, AP {values['averagePrecision']:.4f},"
                  f" precision@k {values['precisionAtK']:.4f}")
    if "difference" in report:
        difference = report["difference"]
        print(f"AUC-ROC difference {difference['aucRoc']:+.4f}"
              f" [{difference['lower']:+.4f}, {difference['upper']:+.4f}]")
    if "drift" in report:
        print(f"drift: largest PSI {report['drift']['maxPsi']:.4f}")
    if "datasetCheck" in report:
        check = report["datasetCheck"]
        print(f"dataset check against {check['csv']}: {'matched' if check['matched'] else 'DIFFERS'}"
              f" ({check['rows']} rows)")
        for message in check["differences"]:
            print(f"  {message}")


if __name__ == "__main__":
    sys.exit(main())
