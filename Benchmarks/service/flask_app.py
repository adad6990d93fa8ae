"""A Flask + scikit-learn scoring service with the same `POST /v1/score` contract as `ledger serve`.

The reference that Benchmarks/service/compare.py loads alongside `ledger serve`. At start-up it trains
`sklearn.ensemble.IsolationForest(n_estimators=100, max_samples=256, max_features=1.0, random_state=0)`
on the training rows (holdout == 0) of a ModelLedger dataset CSV (columns: holdout, the features,
label; an empty cell is 0, as ModelLedger reads it), the same dataset the deployed ledger model was
trained on. The two forests differ (different random streams), so their scores differ row by row;
only their size and their data are the same.

Scores and flags, mapped as `ledger serve` maps its own:
  - score = -score_samples(X). scikit-learn's score_samples is the opposite of the paper's anomaly
    score s(x) = 2^(-E[h(x)] / c(psi)); ModelLedger scores s(x) itself (its IsolationForest documents
    that it equals scikit-learn's -score_samples), so both answer scores in (0, 1], higher is more
    anomalous, on one scale.
  - anomalous = score >= threshold, where the threshold is fixed at start-up by the rule ModelLedger's
    server uses: the ceil(alert_budget x n)-th highest score of the model's own n training rows (the
    workspace's alert budget, 0.05 by default). scikit-learn's own contamination/offset_ machinery
    (predict) is not used: its default ('auto') flags s(x) > 0.5 whatever the data, which would answer
    a different question. Either way the per-request work is one score_samples call and a comparison,
    so the choice costs nothing under load.

The request is validated as `ledger serve` validates it: 1 to 10,000 rows, each an object with exactly
the model's features, each a finite number (null reads as 0); otherwise 400 with
{"error": {"code", "message"}}. The answer is
{"model": {"name", "version", "sha256"}, "threshold": t, "results": [{"score": s, "anomalous": b}, ...]},
where sha256 is the digest of the pickled forest (what the service would ship as its artifact).
GET /readyz answers 200 once the model is trained (it is trained before the app exists) and /healthz 200.

How it is deployed for the benchmark: the way a team would deploy Flask in production, under gunicorn
with 2 sync workers (the benchmark machine has 2 cores; gunicorn's docs suggest 2-4 x cores, but
more processes than cores only add context switches for CPU-bound scoring), with --preload so that the
forest is trained once in the master process and forked into the workers:

    SERVICE_DATASET=/path/to/dataset.csv gunicorn --workers 2 --worker-class sync --preload \\
        --bind 127.0.0.1:8081 --chdir Benchmarks/service 'flask_app:create_app()'

gunicorn's sync workers answer one request at a time each and close the connection after every
response (they do not keep connections alive), as in any default gunicorn deployment. For a cheap
second figure the same app also runs under Flask's development server (threaded, one process):

    SERVICE_DATASET=... python -m flask --app flask_app run --host 127.0.0.1 --port 8082

Configuration comes from the environment (or from create_app's arguments):
    SERVICE_DATASET        the dataset CSV (required)
    SERVICE_ALERT_BUDGET   the share of training rows the threshold flags (default 0.05)
    SERVICE_MODEL_NAME     the model's name in answers (default access-anomaly-sklearn)
    SERVICE_MODEL_VERSION  the model's version in answers (default 1)
"""

import csv
import hashlib
import math
import os
import pickle

import numpy as np
from flask import Flask, jsonify, request
from sklearn.ensemble import IsolationForest

FEATURES = [
    "event_count", "distinct_actions", "distinct_resources", "failure_ratio", "denial_ratio",
    "off_hours_share", "new_ip", "new_country", "total_bytes", "admin_actions_by_non_admin",
]
MAX_ROWS = 10_000  # as ledger serve (ServiceConfiguration.maxRows)


def read_training_rows(path):
    """The holdout == 0 rows of a ModelLedger dataset CSV as a float64 matrix, columns in FEATURES order."""
    with open(path, newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        if header[0] != "holdout" or header[-1] != "label" or header[1:-1] != FEATURES:
            raise ValueError(f"{path}: expected holdout, {', '.join(FEATURES)}, label; found {header}")
        rows = [[float(cell) if cell else 0.0 for cell in row[1:-1]] for row in reader if row and row[0] == "0"]
    return np.asarray(rows, dtype=np.float64)


class Model:
    """The trained forest, its threshold, and the reference every answer names."""

    def __init__(self, dataset, alert_budget, name, version):
        train = read_training_rows(dataset)
        self.forest = IsolationForest(n_estimators=100, max_samples=256, max_features=1.0, random_state=0)
        self.forest.fit(train)
        training_scores = np.sort(self.scores(train))[::-1]
        flagged = max(1, math.ceil(alert_budget * len(training_scores)))
        self.threshold = float(training_scores[min(flagged, len(training_scores)) - 1])
        self.training_rows = len(train)
        self.reference = {
            "name": name,
            "version": version,
            "sha256": hashlib.sha256(pickle.dumps(self.forest)).hexdigest(),
        }

    def scores(self, matrix):
        return -self.forest.score_samples(matrix)


class InvalidRequest(Exception):
    pass


def row_matrix(body):
    """The request's rows as a matrix in FEATURES order, validated as ledger serve validates them."""
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise InvalidRequest('the body is {"rows": [...]}')
    if not 1 <= len(rows) <= MAX_ROWS:
        raise InvalidRequest(f"send 1 to {MAX_ROWS} rows")
    matrix = np.empty((len(rows), len(FEATURES)), dtype=np.float64)
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidRequest(f"rows[{index}] is not an object")
        if len(row) != len(FEATURES) or any(name not in row for name in FEATURES):
            missing = [name for name in FEATURES if name not in row]
            unknown = sorted(name for name in row if name not in FEATURES)
            raise InvalidRequest(
                f"rows[{index}] must have exactly the model's features"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        for column, name in enumerate(FEATURES):
            value = row[name]
            if value is None:
                value = 0.0
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidRequest(f"rows[{index}].{name} is not a finite number")
            matrix[index, column] = value
    return matrix


def error(status, code, message):
    return jsonify({"error": {"code": code, "message": message}}), status


def create_app(dataset=None, alert_budget=None, name=None, version=None):
    """The app, with its model trained; arguments left out come from the SERVICE_* environment variables."""
    model = Model(
        dataset=dataset or os.environ["SERVICE_DATASET"],
        alert_budget=float(alert_budget if alert_budget is not None else os.environ.get("SERVICE_ALERT_BUDGET", "0.05")),
        name=name or os.environ.get("SERVICE_MODEL_NAME", "access-anomaly-sklearn"),
        version=int(version if version is not None else os.environ.get("SERVICE_MODEL_VERSION", "1")),
    )
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        return jsonify({"status": "ready", "model": model.reference})

    @app.post("/v1/score")
    def score():
        body = request.get_json(silent=True)
        if body is None:
            return error(400, "argument.invalid", "the body is not JSON")
        try:
            matrix = row_matrix(body)
        except InvalidRequest as problem:
            return error(400, "argument.invalid", str(problem))
        scores = model.scores(matrix)
        return jsonify({
            "model": model.reference,
            "threshold": model.threshold,
            "results": [{"score": float(s), "anomalous": bool(s >= model.threshold)} for s in scores],
        })

    return app
