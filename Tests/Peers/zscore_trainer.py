#!/usr/bin/env python3
"""A minimal external trainer for ModelLedger, following the contract modelledger.trainer/v1.

It is the example in the README and the peer the tests run `ledger train` with. The model is the mean and
standard deviation of each feature over the training rows (holdout = 0); a row's score is its largest absolute
z-score, so higher means more anomalous. Standard library only, and deterministic: the seed is recorded in the
model but nothing here is random.

    python3 zscore_trainer.py REQUEST.json
"""
import csv
import json
import math
import sys

CONTRACT = "modelledger.trainer/v1"


def train(request):
    with open(request["dataset"], newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        features = header[1:-1]  # holdout, the features, label
        rows = [[float(cell or 0) for cell in line[1:-1]] for line in reader if line[0] == "0"]
    if not rows:
        raise SystemExit("the dataset has no training rows")
    columns = list(zip(*rows))
    means = [math.fsum(column) / len(column) for column in columns]
    deviations = [
        math.sqrt(math.fsum((value - mean) ** 2 for value in column) / len(column)) or 1.0
        for column, mean in zip(columns, means)
    ]
    model = {"features": features, "means": means, "deviations": deviations, "seed": request["seed"]}
    with open(request["model"], "w") as handle:
        json.dump(model, handle, sort_keys=True, separators=(",", ":"))


def score(request):
    with open(request["model"]) as handle:
        model = json.load(handle)
    with open(request["rows"], newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header != model["features"]:
            raise SystemExit(f"the rows have columns {header}, the model {model['features']}")
        lines = []
        for line in reader:
            values = [float(cell) for cell in line]
            z = max(abs(v - m) / d for v, m, d in zip(values, model["means"], model["deviations"]))
            lines.append(repr(z))
    with open(request["scores"], "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    with open(sys.argv[1]) as handle:
        request = json.load(handle)
    if request.get("contract") != CONTRACT:
        raise SystemExit(f"unsupported contract {request.get('contract')!r}")
    {"train": train, "score": score}[request["mode"]](request)


if __name__ == "__main__":
    main()
