#!/usr/bin/env python3
"""Time one weekly ModelLedger pipeline run against a pandas + scikit-learn reference doing the same work.

What is measured, and how:

1. Setup, untimed. In a temporary folder: the demo Audit DB (`ledger demo audit-db`, its defaults
   unless --weeks, --actors, --seed or --drift-week are given: 12 weeks of 300 actors from Monday
   2026-01-05, drift from week 8, about a million events), and a workspace (`ledger init`) in
   which the pipeline has run once on the week before the timed window; its model,
   access-anomaly@1, is then approved and deployed to production, so that the timed run has a
   champion. reference.py prepares its own champion the same way (trained on the same previous
   week) and saves it to a file (--save-champion).

2. The timed runs, R of them (--runs, default 3). Each run copies the prepared workspace to a
   fresh folder (not timed) and then runs, in alternating order so that machine noise hits both
   alike:
     - the weekly ModelLedger run on the window (default 2026-02-16..2026-02-23, a week before the
       demo's drift): it extracts [from - 14 days, to), builds the dataset, measures drift
       against the deployed model, trains, and evaluates against the champion (registering the
       candidate if the gate passes).
       It is `ledger run --window F..T --source sqlite:DB --json --workspace DIR` when the
       binary has that command, else the five step commands it is made of, one process each
       (`ledger extract`, `dataset build`, `drift measure`, `train`, `evaluate`); see
       weekly_run() and --mode;
     - `reference.py --db DB --from F --to T --champion FILE --json`, which does the same work
       with pandas and scikit-learn and loads its champion as the pipeline loads its own.
   Both are child processes measured alike: wall time with time.perf_counter from spawning to
   reaping, so process start counts for both (for Python: the interpreter and the imports of
   pandas, SciPy and scikit-learn), and peak RSS from the child's own rusage (os.wait4,
   ru_maxrss). With the step commands the wall time is the sum over the steps and the peak RSS
   the largest step's.

   Linux carries a parent's peak RSS into a child's ru_maxrss at exec, so no reading can be below
   this process's own peak; compare.py imports only the standard library to keep that floor low,
   measures it (the peak RSS of /bin/true spawned the same way) and reports it as rssFloorBytes.

3. The checks, untimed. reference.py --check-dataset compares its feature matrix with the
   dataset CSV the first timed ledger run built (found through the dataset.built event in that
   workspace's log): every cell within 1e-9. The drift that the run recorded (drift.measured) is
   compared per feature with the reference's, to the tolerances of docs/drift.md; the scores'
   drift is not compared, since the two champions are different forests.

Reported: the medians over the runs of wall time and peak RSS of each, the reference's median
in-process stage seconds, ledger's median step seconds (with `ledger run`, the durations the run
recorded, read afterwards with `ledger runs RUN`; with the step commands, each one's wall time),
and the ratio of the median wall times ledger / reference. Target: at most 0.5. The target is
reported, not enforced; the process exits 1 if the dataset check fails. With --json, standard
output is one JSON document and the human table goes to standard error.

Usage (normally through the `run` script beside this file):
    python compare.py --ledger .build/release/ledger [--runs R] [--window F..T] [--mode auto|run|steps]
                      [--weeks N] [--actors N] [--seed S] [--drift-week W] [--keep DIR] [--json]
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT_FOLDER = Path(__file__).resolve().parent
REFERENCE = SCRIPT_FOLDER / "reference.py"
TARGET_RATIO = 0.5  # ledger / reference median wall seconds, at most
DEFAULT_WINDOW = "2026-02-16..2026-02-23"
LOOKBACK = datetime.timedelta(days=14)  # audit/features.v1.json history.lookbackDays
TARGET = "production"
# docs/drift.md: how closely ModelLedger's drift statistics follow SciPy's.
DRIFT_TOLERANCES = {"psi": ("absolute", 1e-9), "ks": ("absolute", 1e-12), "ksPValue": ("relative", 1e-6),
                    "wasserstein": ("relative", 1e-9)}

# Where progress and tables go: standard output, or standard error when --json owns standard output.
OUTPUT = sys.stdout


def log(message=""):
    print(message, file=OUTPUT, flush=True)


# ---------------------------------------------------------------- inputs


def parse_window(text):
    """'2026-02-16..2026-02-23' (dates or UTC times) as two aware datetimes."""
    parts = text.split("..")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("a window is FROM..TO, such as 2026-02-16..2026-02-23")
    try:
        start, end = (parse_time(part) for part in parts)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if end <= start:
        raise argparse.ArgumentTypeError("the window must end after it starts")
    return start, end


def parse_time(text):
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def iso(moment):
    """The form ledger and reference.py both read: YYYY-MM-DDTHH:MM:SS.mmmZ."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledger", required=True, help="path to the release-built ledger executable")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--window", type=parse_window, default=parse_window(DEFAULT_WINDOW),
                        help=f"the weekly run's window FROM..TO (default {DEFAULT_WINDOW}); the champion is"
                             " trained on the window of the same length just before it")
    parser.add_argument("--mode", choices=["auto", "run", "steps"], default="auto",
                        help="`ledger run`, the step commands, or auto: `ledger run` if the binary has it")
    parser.add_argument("--weeks", type=int, help="demo Audit DB weeks (default: the demo's, 12)")
    parser.add_argument("--actors", type=int, help="demo Audit DB actors (default: the demo's, 300)")
    parser.add_argument("--seed", type=int, help="demo Audit DB seed (default: the demo's)")
    parser.add_argument("--drift-week", type=int, help="demo Audit DB drift week (default: the demo's, 8)")
    parser.add_argument("--python", default=sys.executable,
                        help="the Python that runs reference.py (default: this one)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR (which must not exist) and keep it, instead of a temporary folder")
    parser.add_argument("--json", action="store_true", help="print one JSON document on standard output")
    arguments = parser.parse_args()
    if not 1 <= arguments.runs <= 25:
        parser.error("--runs must be 1 to 25")
    if arguments.keep and arguments.keep.exists():
        parser.error(f"--keep: {arguments.keep} exists")
    return arguments


# ---------------------------------------------------------------- child processes


class Measured:
    """One child process: wall seconds, peak RSS in bytes, exit code and output."""

    def __init__(self, command, seconds, peak_rss, returncode, stdout, stderr):
        self.command, self.seconds, self.peak_rss = command, seconds, peak_rss
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def json(self):
        """The child's JSON output: the last line of standard output."""
        lines = self.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else None


def measure(command):
    """Run `command` to completion, timing it from spawn to reap and reading its own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    return Measured(command, seconds, usage.ru_maxrss * 1024, process.returncode, stdout, stderr)


def checked(measured):
    if measured.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, measured.command))} failed ({measured.returncode}):\n"
                         f"{measured.stderr.strip() or measured.stdout.strip()}")
    return measured


def ledger_json(ledger, *arguments):
    return checked(measure([ledger, *arguments])).json()


# ---------------------------------------------------------------- the weekly ModelLedger run


def has_run_command(ledger):
    """Whether `ledger --help` lists a `run` subcommand (`ledger run --help` falls back to the root help)."""
    help_text = subprocess.run([ledger, "--help"], capture_output=True, text=True).stdout
    return any(re.match(r"^\s{2,}run(\s|$)", line) for line in help_text.splitlines())


def weekly_run(ledger, mode, workspace, db, window):
    """One weekly pipeline run on `window` in `workspace`: (processes measured, {step: seconds}, summary).

    With mode "run" this is the single `ledger run` command; its step seconds are the durations the
    run recorded (read afterwards with `ledger runs RUN`, untimed). With mode "steps" it is the step
    commands the run is made of, and each step's seconds are its process's wall time. The summary
    has at least "verdict" and "registered".
    """
    if mode == "steps":
        return weekly_run_with_steps(ledger, workspace, db, window)
    measured = checked(measure([ledger, "run", "--window", f"{iso(window[0])}..{iso(window[1])}",
                                "--source", f"sqlite:{db}", "--json", "--workspace", str(workspace)]))
    summary = measured.json()["runs"][-1]
    if summary.get("status") != "completed":
        raise SystemExit(f"ledger run did not complete: {json.dumps(summary)}")
    recorded = json.loads(subprocess.run([ledger, "runs", summary["run"], "--workspace", str(workspace), "--json"],
                                         capture_output=True, text=True, check=True).stdout)
    steps = {step["name"]: step["durationMs"] / 1000 for step in recorded["steps"]}
    return [measured], steps, summary


def weekly_run_with_steps(ledger, workspace, db, window):
    steps, processes, summary = {}, [], {}

    def step(name, *arguments):
        measured = checked(measure([ledger, *arguments, "--workspace", str(workspace), "--json"]))
        processes.append(measured)
        steps[name] = measured.seconds
        return measured.json()

    extracted = step("extract", "extract", "--source", f"sqlite:{db}",
                     "--from", iso(window[0] - LOOKBACK), "--to", iso(window[1]))
    built = step("dataset", "dataset", "build", "--extract", str(extracted["seq"]))
    if last_event(ledger, workspace, "model.deployed"):  # not timed: `ledger run` decides this itself
        drift = step("drift", "drift", "measure", "--dataset", built["datasetDigest"])
        summary["drift"] = drift["verdict"]
    trained = step("train", "train", "--dataset", built["datasetDigest"])
    evaluated = step("evaluate", "evaluate", "--model", trained["artifactDigest"])
    summary.update({"rows": extracted["rows"], "dataset": built["datasetDigest"], "model": trained["artifactDigest"],
                    "verdict": evaluated["verdict"], "registered": evaluated["registered"]})
    return processes, steps, summary


def last_event(ledger, workspace, event_type):
    """The workspace's last event of a type, as `ledger log --json` prints it, or None."""
    events = json.loads(subprocess.run([ledger, "log", "--workspace", str(workspace), "--type", event_type, "--json"],
                                       capture_output=True, text=True, check=True).stdout)
    return events[-1] if events else None


def artifact_path(workspace, sha256):
    """Where a workspace keeps an artifact: ledger.json's "artifacts" (file:FOLDER), then sha256/xx/HEX."""
    config = json.loads((workspace / "ledger.json").read_text())
    location = config.get("artifacts", "file:artifacts")
    if not location.startswith("file:"):
        raise SystemExit(f"{workspace}: artifacts are not in a folder ({location})")
    return workspace / location[len("file:"):] / "sha256" / sha256[:2] / sha256


# ---------------------------------------------------------------- setup


def make_demo(ledger, folder, arguments):
    db = folder / "audit.db"
    command = ["demo", "audit-db", "--out", str(db), "--json"]
    for option in ("weeks", "actors", "seed", "drift_week"):
        if getattr(arguments, option) is not None:
            command += [f"--{option.replace('_', '-')}", str(getattr(arguments, option))]
    return db, ledger_json(ledger, *command)


def prepare_workspace(ledger, mode, folder, db, champion_window):
    """A workspace whose production target serves a model trained on `champion_window`."""
    workspace = folder / "prepared"
    ledger_json(ledger, "init", str(workspace), "--json")
    _, _, summary = weekly_run(ledger, mode, workspace, db, champion_window)
    registered = summary.get("registered")
    if not registered:
        raise SystemExit(f"the champion's run registered no model: {json.dumps(summary)}")
    ledger_json(ledger, "approve", registered, "--reason", "benchmark champion", "--workspace", str(workspace),
                "--json")
    ledger_json(ledger, "deploy", registered, "--target", TARGET, "--workspace", str(workspace), "--json")
    return workspace, registered


def prepare_reference_champion(python, folder, db, champion_window):
    champion = folder / "reference-champion.pickle"
    checked(measure([python, str(REFERENCE), "--db", str(db), "--champion-from", iso(champion_window[0]),
                     "--champion-to", iso(champion_window[1]), "--save-champion", str(champion), "--json"]))
    return champion


def rss_floor():
    """The peak RSS any child reports at least: this process's own, inherited at exec."""
    return measure(["/bin/true"]).peak_rss


# ---------------------------------------------------------------- checks


def check_dataset(python, ledger, workspace, db, window):
    event = last_event(ledger, workspace, "dataset.built")
    csv = artifact_path(workspace, event["data"]["dataset"]["sha256"])
    measured = measure([python, str(REFERENCE), "--db", str(db), "--from", iso(window[0]), "--to", iso(window[1]),
                        "--check-dataset", str(csv), "--json"])
    result = measured.json() if measured.stdout.strip() else None
    if result is None or "datasetCheck" not in result:
        raise SystemExit(f"reference.py --check-dataset failed ({measured.returncode}):\n{measured.stderr.strip()}")
    return {**result["datasetCheck"], "datasetDigest": "sha256:" + event["data"]["dataset"]["sha256"]}


def check_drift(ledger, workspace, reference_drift):
    """ModelLedger's recorded per-feature drift against the reference's, to docs/drift.md's tolerances."""
    event = last_event(ledger, workspace, "drift.measured")
    if event is None or reference_drift is None:
        return {"compared": False, "reason": "no drift was measured"}
    differences = []
    for feature in event["data"]["features"]:
        ours = {"psi": feature["psi"], "ks": feature["ks"]["statistic"], "ksPValue": feature["ks"]["pValue"],
                "wasserstein": feature["wasserstein"]}
        theirs = reference_drift["features"][feature["name"]]
        for statistic, (kind, tolerance) in DRIFT_TOLERANCES.items():
            allowed = tolerance * (max(abs(theirs[statistic]), 1e-300) if kind == "relative" else 1)
            if not abs(ours[statistic] - theirs[statistic]) <= allowed:
                differences.append(f"{feature['name']} {statistic}: ledger {ours[statistic]!r},"
                                   f" reference {theirs[statistic]!r}")
    return {"compared": True, "features": len(event["data"]["features"]), "matched": not differences,
            "differences": differences}


# ---------------------------------------------------------------- reporting


def environment(ledger, python):
    script = ("import sys, numpy, pandas, scipy, sklearn; print(sys.version.split()[0], numpy.__version__,"
              " pandas.__version__, scipy.__version__, sklearn.__version__)")
    versions = subprocess.run([python, "-c", script], capture_output=True, text=True).stdout.split()
    names = ["python", "numpy", "pandas", "scipy", "sklearn"]
    return {
        "reference": dict(zip(names, versions)) if len(versions) == len(names) else {"python": python},
        "ledger": str(Path(ledger).resolve()),
        "ledgerVersion": subprocess.run([ledger, "--version"], capture_output=True, text=True).stdout.strip(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpuCount": os.cpu_count(),
        "threadEnvironment": {key: value for key, value in os.environ.items()
                              if key.endswith("_NUM_THREADS") or key.startswith("OPENBLAS_")},
    }


def format_table(headers, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(cell).rjust(width) if index else str(cell).ljust(width)
                       for index, (cell, width) in enumerate(zip(line, widths)))
             for line in [headers, ["-" * width for width in widths], *rows]]
    return "\n".join(lines)


def megabytes(value):
    return f"{value / 1e6:.1f}"


def medians(dictionaries):
    """{key: median over the dictionaries that have it}."""
    keys = [key for key in dictionaries[0]] if dictionaries else []
    return {key: statistics.median(d[key] for d in dictionaries if key in d) for key in keys}


def print_report(report):
    ledger, reference = report["ledger"], report["reference"]
    log(f"\nOne weekly run, window {report['window']['from']} .. {report['window']['to']}"
        f" ({report['demo'].get('events', '?'):,} demo events; ledger mode: {report['mode']});"
        f" median of {report['runs']} runs, each a child process")
    log(format_table(
        ["", "wall s (median)", "wall s (runs)", "peak RSS MB (median)", "peak RSS MB (runs)"],
        [["ledger", f"{ledger['medianWallSeconds']:.3f}", " ".join(f"{s:.3f}" for s in ledger["wallSeconds"]),
          megabytes(ledger["medianPeakRssBytes"]), " ".join(megabytes(b) for b in ledger["peakRssBytes"])],
         ["reference", f"{reference['medianWallSeconds']:.3f}",
          " ".join(f"{s:.3f}" for s in reference["wallSeconds"]),
          megabytes(reference["medianPeakRssBytes"]), " ".join(megabytes(b) for b in reference["peakRssBytes"])]]))
    log(f"ratio ledger / reference (median wall): {report['ratio']:.3f}"
        f" (target <= {TARGET_RATIO}: {'met' if report['metTarget'] else 'NOT met'});"
        f" peak RSS ratio {report['rssRatio']:.3f}; RSS floor {megabytes(report['rssFloorBytes'])} MB")
    log(f"\nledger steps, median s ({ledger['stepTiming']}): "
        + ", ".join(f"{k} {v:.3f}" for k, v in ledger["medianStepSeconds"].items()))
    log("reference stages, median s (in-process): "
        + ", ".join(f"{k} {v:.3f}" for k, v in reference["medianStageSeconds"].items())
        + f"; total {reference['medianTotalSeconds']:.3f}, so start-up and imports"
          f" about {reference['medianWallSeconds'] - reference['medianTotalSeconds']:.3f}")
    metrics = reference.get("metrics", {})
    if "candidate" in metrics:
        log(f"reference AUC-ROC: candidate {metrics['candidate']['aucRoc']:.4f}"
            + (f", champion {metrics['champion']['aucRoc']:.4f}" if "champion" in metrics else "")
            + "; ledger run: " + ", ".join(f"{key} {ledger['summary'].get(key)}"
                                          for key in ("drift", "verdict", "registered")))
    check = report["datasetCheck"]
    log(f"\nfeature check ({check['rows']} rows, to {check['tolerance']:g}):"
        f" {'matched' if check['matched'] else 'DIFFERS'}")
    for message in check["differences"]:
        log(f"  {message}")
    drift = report["driftCheck"]
    if drift.get("compared"):
        log(f"drift check ({drift['features']} features, docs/drift.md tolerances):"
            f" {'matched' if drift['matched'] else 'DIFFERS'}")
        for message in drift["differences"]:
            log(f"  {message}")


# ---------------------------------------------------------------- main


def main():
    global OUTPUT
    arguments = parse_arguments()
    if arguments.json:
        OUTPUT = sys.stderr
    ledger = str(Path(arguments.ledger).resolve())
    if not os.access(ledger, os.X_OK):
        raise SystemExit(f"not an executable: {arguments.ledger}")
    mode = arguments.mode
    if mode == "auto":
        mode = "run" if has_run_command(ledger) else "steps"
    window = arguments.window
    champion_window = (window[0] - (window[1] - window[0]), window[0])

    if arguments.keep:
        arguments.keep.mkdir(parents=True)
        folder, cleanup = arguments.keep.resolve(), None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="pipeline-compare-")
        folder = Path(cleanup.name)
    try:
        log(f"==> demo Audit DB and a workspace serving a champion trained on {iso(champion_window[0])}"
            f" .. {iso(champion_window[1])} (ledger mode: {mode})")
        db, demo = make_demo(ledger, folder, arguments)
        prepared, champion_version = prepare_workspace(ledger, mode, folder, db, champion_window)
        reference_champion = prepare_reference_champion(arguments.python, folder, db, champion_window)

        ledger_runs, reference_runs, first_workspace = [], [], None
        for run in range(arguments.runs):
            workspace = folder / f"run-{run + 1}"
            shutil.copytree(prepared, workspace, symlinks=True)
            first_workspace = first_workspace or workspace
            order = ["ledger", "reference"] if run % 2 == 0 else ["reference", "ledger"]
            for which in order:
                log(f"==> run {run + 1}/{arguments.runs}: {which}")
                if which == "ledger":
                    processes, steps, summary = weekly_run(ledger, mode, workspace, db, window)
                    ledger_runs.append({"seconds": sum(p.seconds for p in processes),
                                        "peakRss": max(p.peak_rss for p in processes),
                                        "steps": steps, "summary": summary})
                else:
                    measured = checked(measure([arguments.python, str(REFERENCE), "--db", str(db),
                                                "--from", iso(window[0]), "--to", iso(window[1]),
                                                "--champion", str(reference_champion), "--json"]))
                    reference_runs.append({"seconds": measured.seconds, "peakRss": measured.peak_rss,
                                           "output": measured.json()})
            if run > 0 and not arguments.keep:
                shutil.rmtree(workspace)  # the first is kept for the checks

        log("==> checks: features and drift")
        dataset_check = check_dataset(arguments.python, ledger, first_workspace, db, window)
        drift_check = check_drift(ledger, first_workspace, reference_runs[0]["output"].get("drift"))
        floor = rss_floor()
    finally:
        if cleanup:
            cleanup.cleanup()

    ledger_wall = statistics.median(r["seconds"] for r in ledger_runs)
    reference_wall = statistics.median(r["seconds"] for r in reference_runs)
    ledger_rss = statistics.median(r["peakRss"] for r in ledger_runs)
    reference_rss = statistics.median(r["peakRss"] for r in reference_runs)
    last_output = reference_runs[-1]["output"]
    report = {
        "environment": environment(ledger, arguments.python),
        "demo": demo,
        "window": {"from": iso(window[0]), "to": iso(window[1]), "extractFrom": iso(window[0] - LOOKBACK)},
        "champion": {"version": champion_version, "window": {"from": iso(champion_window[0]),
                                                             "to": iso(champion_window[1])}},
        "mode": mode,
        "runs": arguments.runs,
        "ledger": {
            "wallSeconds": [r["seconds"] for r in ledger_runs],
            "peakRssBytes": [r["peakRss"] for r in ledger_runs],
            "medianWallSeconds": ledger_wall,
            "medianPeakRssBytes": ledger_rss,
            "medianStepSeconds": medians([r["steps"] for r in ledger_runs]),
            "stepTiming": "as the run recorded them" if mode == "run" else "each step's process wall time",
            "summary": ledger_runs[-1]["summary"],
        },
        "reference": {
            "wallSeconds": [r["seconds"] for r in reference_runs],
            "peakRssBytes": [r["peakRss"] for r in reference_runs],
            "medianWallSeconds": reference_wall,
            "medianPeakRssBytes": reference_rss,
            "medianStageSeconds": medians([r["output"]["stages"] for r in reference_runs]),
            "medianTotalSeconds": statistics.median(r["output"]["totalSeconds"] for r in reference_runs),
            "rows": last_output["rows"],
            "metrics": {key: last_output[key] for key in ("candidate", "champion", "difference")
                        if key in last_output},
        },
        "ratio": ledger_wall / reference_wall,
        "pairedRatios": [l["seconds"] / r["seconds"] for l, r in zip(ledger_runs, reference_runs)],
        "rssRatio": ledger_rss / reference_rss,
        "targetRatio": TARGET_RATIO,
        "metTarget": ledger_wall / reference_wall <= TARGET_RATIO,
        "rssFloorBytes": floor,
        "datasetCheck": dataset_check,
        "driftCheck": drift_check,
    }
    print_report(report)
    if arguments.json:
        print(json.dumps(report, indent=2))
    return 0 if dataset_check["matched"] else 1


if __name__ == "__main__":
    sys.exit(main())
