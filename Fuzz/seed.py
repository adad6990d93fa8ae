#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets (see `Scripts/fuzz seed`, which merges them into Fuzz/Corpora).

usage: seed.py WORKSPACE SEEDS

WORKSPACE is a quickstart workspace (its export, checkpoint, proofs, dataset and audit events); the test fixtures
under Tests/ and the benchmark datasets give the rest. Each seed is a real input or a cut of one: the fuzzer makes
the hostile variants.
"""

import base64
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "LedgerCoreTests", "Fixtures")


def main() -> None:
    workspace, seeds = sys.argv[1], sys.argv[2]

    def put(target: str, data: bytes) -> None:
        folder = os.path.join(seeds, target)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as file:
            file.write(data)

    def read(path: str) -> bytes:
        with open(path, "rb") as file:
            return file.read()

    export = read(os.path.join(workspace, "log.jsonl"))
    leaves = export.split(b"\n")[:-1]
    sample = leaves[:6] + leaves[-4:]
    payloads = [base64.b64decode(json.loads(leaf)["payload"]) for leaf in sample]

    # json: the JCS vectors, every JSON fixture, leaves, payloads and the workspace's JSON files.
    for path in glob.glob(os.path.join(FIXTURES, "jcs", "*", "*.json")) + glob.glob(
        os.path.join(FIXTURES, "*", "*.json")
    ):
        put("json", read(path))
    for name in ["ledger.json", "policy.json", "inclusion.json", "consistency.json"]:
        put("json", read(os.path.join(workspace, name)))
    for data in sample + payloads:
        put("json", data)

    # envelope, ledger-leaf: DSSE fixtures and the export's lines; event: their payloads.
    for path in glob.glob(os.path.join(FIXTURES, "dsse", "envelope_*.json")):
        put("envelope", read(path))
    for leaf in sample:
        put("envelope", leaf)
        put("ledger-leaf", leaf)
    for path in ["tampered.jsonl", "truncated.jsonl"]:
        for line in read(os.path.join(workspace, path)).split(b"\n")[:3]:
            if line:
                put("ledger-leaf", line)
    for data in payloads:
        put("event", data)

    # export: the first lines of the export and of its tampered copy. Every line costs a signature check, so the
    # target's inputs stay below 8 KiB (a few entries) to keep it fast.
    tampered = read(os.path.join(workspace, "tampered.jsonl")).split(b"\n")[:-1]
    for count in [1, 2, 3, 5]:
        put("export", b"".join(leaf + b"\n" for leaf in leaves[:count]))
        put("export", b"".join(leaf + b"\n" for leaf in tampered[:count]))

    # checkpoint-note: the signed checkpoint, the C2SP note vectors and the checkpoint bodies.
    put("checkpoint-note", read(os.path.join(workspace, "checkpoint.txt")))
    for path in ["note_vectors.json", "checkpoint_body_vectors.json", "derived_checkpoint_rfc6962_size8.json"]:
        for text in strings(json.loads(read(os.path.join(FIXTURES, "checkpoint", path)))):
            if "\n" in text:
                put("checkpoint-note", text.encode())

    # proof: what `ledger prove … --json` writes.
    for name in ["inclusion.json", "inclusion-1.json", "consistency.json", "consistency-equal.json"]:
        put("proof", read(os.path.join(workspace, name)))

    # csv: the head of the workspace's dataset and of the benchmark datasets.
    for path in glob.glob(os.path.join(workspace, "artifacts", "sha256", "*", "*")):
        data = read(path)
        if data.startswith(b"holdout,"):
            put("csv", b"\n".join(data.split(b"\n")[:12]) + b"\n")
    for path in sorted(glob.glob(os.path.join(ROOT, "Benchmarks", "datasets", "adbench", "*.csv")))[:4]:
        put("csv", b"\n".join(read(path).split(b"\n")[:6]) + b"\n")

    # scoring-request: bodies of POST /v1/score, with events from the workspace's extract and rows of features.
    for path in glob.glob(os.path.join(workspace, "artifacts", "sha256", "*", "*")):
        data = read(path)
        if data.startswith(b'{"action"'):
            events = [json.loads(line) for line in data.split(b"\n")[:40] if line]
            for event in events:
                event.pop("label", None)
            put("scoring-request", canonical({"events": events[:3]}))
            put("scoring-request", canonical({"events": events, "scoreFrom": "2026-01-05T12:00:00Z"}))
            break
    put("scoring-request", canonical({"rows": [{"event_count": 3, "total_bytes": None, "distinct_actions": 1.5}]}))

    # cron: the schedules the tests and docs use.
    for expression in [
        "0 3 * * 1", "*/15 * * * *", "*/5 1-3 1,15 * *", "0 0 * * Mon-Fri/2", "0 0 1-31/10 * *", "0 0 30 2 *",
        "0 0 29 2 *", "0 0 * DEC,jul *", "0 0 1 * MON", "@weekly", "@yearly", "@hourly", "59 23 31 12 7",
    ]:
        put("cron", expression.encode())

    # model-artifact seeds come from fuzz-seeds (small models); add the workspace's only if small.
    for path in glob.glob(os.path.join(workspace, "artifacts", "sha256", "*", "*")):
        data = read(path)
        if data.startswith(b"\x89LMLIF") and len(data) <= 65536:
            put("model-artifact", data)


def strings(value):
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


if __name__ == "__main__":
    main()
