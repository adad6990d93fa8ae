#!/usr/bin/env python3
"""Load-test `ledger serve` against a Flask + scikit-learn service with the same contract, in the same run.

What is measured, and how:

1. Setup, untimed. A quickstart workspace in a temporary folder (`ledger quickstart --dir D --json`;
   or --workspace to use one that exists), whose production target serves an Isolation Forest of
   100 trees, 256 samples per tree and 10 features. Two servers on loopback, each on a free port:
     - `ledger serve --workspace D --host 127.0.0.1 --port P` (release build; it verifies the log and
       loads the deployed version before it is ready);
     - flask_app.py under gunicorn, 2 sync workers (the machine's core count), --preload: scikit-learn's
       IsolationForest(n_estimators=100, max_samples=256, max_features=1.0, random_state=0) trained at
       start-up on the training rows of the very dataset CSV the deployed version was trained on
       (found through `ledger registry --json`), answering -score_samples with ledger serve's
       threshold rule (see flask_app.py for the mapping and why).
   Both are ready when GET /readyz answers 200.

2. Payloads. Rows from the dataset's holdout rows (holdout == 1; empty cells sent as 0): 100 of them
   drawn with random.Random(0), in dataset order, and the first of those alone. Every request of a
   run sends the same body: {"rows": [...]} with all 10 features by name.

3. Correctness, once, untimed. Each payload, and all the holdout rows in one request, POSTed to both
   servers: each must answer 200 with one result per row, a model object {name, version, sha256},
   scores in (0, 1] and flags that follow score >= threshold; ledger's model must be the version the
   registry says serves production. The two forests differ, so their flags are compared, not
   required to match: reported are the agreement of the anomalous flags on the 100 rows (and on all
   holdout rows) and the Spearman rank correlation of the scores.

4. Load, with wrk (Debian's wrk 4.1; score.lua POSTs the body and prints wrk's own figures as JSON):
       wrk -t1 -c16 -d10s --timeout 10s --latency -s score.lua http://127.0.0.1:P/v1/score -- BODY.json
   For each payload (1 row, 100 rows), first a 2-second warm-up of each server (discarded), then
   R rounds (--rounds, default 3) of one fixed-duration run on each server, alternating which goes
   first so that the machine's noise hits both alike.
     - Concurrency 16 connections (--connections). wrk is a closed loop: each connection has one
       request in flight and sends the next when the answer arrives, so throughput is capacity only
       if the server is never idle. 16 keeps both saturated: gunicorn's two workers always have a
       queued connection waiting (sync workers close the connection after every answer, so wrk
       reconnects each time and needs slack to hide that), and ledger's event loops (one per core)
       have several connections each. It is a modest pool, like a few upstream services with
       keep-alive pools; on 2 cores, more connections add queueing latency, not throughput. The
       latencies are therefore latencies at full load: by Little's law p50 is about
       connections / (requests per second), which is most of the Flask figure.
     - One wrk thread (--threads): on a 2-core machine every cycle wrk burns is taken from the server
       under test, and one thread drives loopback faster than either server answers. The CPU seconds
       wrk used are reported (wrkCpuShare: 1.0 = a whole core) so that a saturated load generator
       would show.
     - wrk measures latency from sending a request to its answer on each connection (closed loop,
       so no coordinated-omission correction, as with any wrk 4 figure); p50 and p99 come from its
       histogram. Non-2xx answers, socket errors and timeouts are counted; any makes the run invalid.
     - The server's CPU seconds during each run (from /proc: the process, and gunicorn's workers)
       give CPU time per request, a figure less sensitive to the noise than requests per second.
   A cheap second reference, unless --skip-flask-dev: the same Flask app under Flask's development
   server (`python -m flask run`, threaded, one process), one round per payload after the others.

Reported: per payload and server, the medians over the rounds of requests per second, p50 and p99
latency, and of CPU per request; the ratio of the median throughputs ledger / Flask (and the range of
the per-round ratios). Targets, from the issue: ledger's throughput at least 10 x Flask's (both
payloads), and ledger's p99 for single rows at most 5 ms. Targets are reported, not enforced; the
process exits 1 if a correctness check fails, a load run has errors, or `ledger serve` does not exit 0
on SIGTERM. Every server is stopped with SIGTERM at the end (gunicorn shuts down gracefully and exits 0;
Flask's development server has no SIGTERM handler and dies of the signal). With --json,
standard output is one JSON document with every figure, the commands and the environment, and the
human tables go to standard error.

Usage (normally through the `run` script beside this file):
    python compare.py --ledger .build/release/ledger [--workspace DIR] [--rounds R] [--duration S]
                      [--connections N] [--threads N] [--warmup S] [--skip-flask-dev] [--keep DIR] [--json]
"""

import argparse
import csv
import importlib.metadata
import json
import os
import platform
import random
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

SCRIPT_FOLDER = Path(__file__).resolve().parent
WRK_SCRIPT = SCRIPT_FOLDER / "score.lua"
TARGET = "production"
PAYLOAD_SIZES = (1, 100)
TARGET_THROUGHPUT_RATIO = 10.0  # ledger / Flask requests per second, at least
TARGET_P99_MS = 5.0  # ledger's p99 latency for single rows, at most
GUNICORN_WORKERS = 2
READY_TIMEOUT = 120.0  # seconds for a server to answer /readyz 200

# Where progress and tables go: standard output, or standard error when --json owns standard output.
OUTPUT = sys.stdout


def log(message=""):
    print(message, file=OUTPUT, flush=True)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledger", required=True, help="path to the release-built ledger executable")
    parser.add_argument("--workspace", type=Path,
                        help="a workspace with a deployed model to serve (default: a new quickstart workspace)")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs of each server per payload (default 3)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of discarded load per server and payload (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--skip-flask-dev", action="store_true", help="skip the Flask development-server figure")
    parser.add_argument("--keep", type=Path, help="keep the temporary folder (workspace, bodies, server logs) here")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout; tables on stderr")
    arguments = parser.parse_args()
    if arguments.rounds < 1 or arguments.duration < 1 or arguments.connections < 1 or arguments.threads < 1:
        parser.error("--rounds, --duration, --connections and --threads must be at least 1")
    if arguments.connections < arguments.threads:
        parser.error("wrk needs at least one connection per thread")
    return arguments


# ---------------------------------------------------------------- workspace and payloads


def run_json(command):
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(completed.stdout)


def serving_dataset(ledger, workspace):
    """The registry entry serving the target, and the path of the dataset CSV it was trained on."""
    registry = run_json([ledger, "registry", "--json", "--workspace", str(workspace)])
    for entry in registry:
        targets = [item if isinstance(item, str) else item.get("target") for item in entry.get("serving", [])]
        if TARGET in targets:
            break
    else:
        raise SystemExit(f"no registered version serves {TARGET} in {workspace}")
    digest = entry["dataset"]["sha256"]
    settings = json.loads((workspace / "ledger.json").read_text())
    artifacts = settings.get("artifacts", "file:artifacts").removeprefix("file:")
    path = (workspace / artifacts).resolve() / "sha256" / digest[:2] / digest
    if not path.is_file():
        raise SystemExit(f"the dataset artifact {digest} is not at {path}")
    return entry, path


def number(cell):
    """A CSV cell as the JSON number a client would send: empty is 0, integers stay integers."""
    if cell == "":
        return 0
    value = float(cell)
    return int(value) if value.is_integer() and "." not in cell and "e" not in cell.lower() else value


def holdout_rows(dataset):
    """The holdout rows of a dataset CSV as {feature: number} objects, in dataset order."""
    with open(dataset, newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        features = header[1:-1]
        return [dict(zip(features, map(number, row[1:-1]))) for row in reader if row and row[0] == "1"]


def payloads(rows, folder):
    """{size: (rows, body file)} for each payload size."""
    chosen = sorted(random.Random(0).sample(range(len(rows)), max(PAYLOAD_SIZES)))
    result = {}
    for size in PAYLOAD_SIZES:
        selected = [rows[index] for index in chosen[:size]]
        path = folder / f"rows-{size}.json"
        path.write_text(json.dumps({"rows": selected}, separators=(",", ":")))
        result[size] = (selected, path)
    return result


# ---------------------------------------------------------------- servers


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method, url, body=None, timeout=30):
    """(status, parsed JSON body) of one request."""
    data = None if body is None else json.dumps(body).encode()
    headers = {} if body is None else {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Server:
    """A server process on 127.0.0.1:port with its output in a log file."""

    def __init__(self, label, command, port, log_path, cwd=None, env=None):
        self.label, self.command, self.port, self.log_path = label, command, port, log_path
        self.url = f"http://127.0.0.1:{port}"
        self.log_file = open(log_path, "w")
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.label} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if http("GET", self.url + "/readyz", timeout=2)[0] == 200:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.label} was not ready within {READY_TIMEOUT:.0f} s; see {self.log_path}")

    def processes(self):
        """The server's process ids: the process and its children (gunicorn's workers)."""
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def cpu_seconds(self):
        """User + system CPU seconds used so far by the server's live processes (Linux /proc), or None."""
        total = 0
        try:
            for pid in self.processes():
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            return None
        return total / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self):
        """The resident memory of the server's processes (Linux /proc), or None."""
        total = 0
        try:
            for pid in self.processes():
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            return None
        return total

    def stop(self):
        """SIGTERM, then the exit status (SIGKILL after 30 s, reported as such)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.log_file.close()
                return "killed after 30 s"
        self.log_file.close()
        return self.process.returncode


def python_environment():
    """The environment for the Python servers: this one, less the OpenBLAS overrides the run script drops."""
    environment = dict(os.environ)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        environment.pop(name, None)
    return environment


def start_gunicorn(dataset, model, folder):
    port = free_port()
    environment = python_environment()
    environment.update(SERVICE_DATASET=str(dataset), SERVICE_ALERT_BUDGET=repr(model["alertBudget"]),
                       SERVICE_MODEL_NAME=model["model"]["name"] + "-sklearn",
                       SERVICE_MODEL_VERSION=str(model["model"]["version"]))
    command = [sys.executable, "-m", "gunicorn", "--workers", str(GUNICORN_WORKERS), "--worker-class", "sync",
               "--preload", "--no-control-socket", "--bind", f"127.0.0.1:{port}", "flask_app:create_app()"]
    return Server("Flask (gunicorn)", command, port, folder / "gunicorn.log", cwd=SCRIPT_FOLDER, env=environment)


def start_flask_dev(dataset, model, folder):
    port = free_port()
    environment = python_environment()
    environment.update(SERVICE_DATASET=str(dataset), SERVICE_ALERT_BUDGET=repr(model["alertBudget"]),
                       SERVICE_MODEL_NAME=model["model"]["name"] + "-sklearn",
                       SERVICE_MODEL_VERSION=str(model["model"]["version"]))
    command = [sys.executable, "-m", "flask", "--app", "flask_app", "run", "--host", "127.0.0.1",
               "--port", str(port)]
    return Server("Flask (dev server)", command, port, folder / "flask-dev.log", cwd=SCRIPT_FOLDER, env=environment)


# ---------------------------------------------------------------- correctness


def check_answer(label, status, answer, rows):
    """Problems with one /v1/score answer, as a list of strings."""
    if status != 200:
        return [f"{label}: status {status}: {answer}"]
    problems = []
    model = answer.get("model")
    if not isinstance(model, dict) or set(model) != {"name", "version", "sha256"}:
        problems.append(f"{label}: the model object is {model!r}")
    results = answer.get("results")
    threshold = answer.get("threshold")
    if not isinstance(results, list) or len(results) != rows:
        return problems + [f"{label}: {len(results) if isinstance(results, list) else 'no'} results for {rows} rows"]
    for index, result in enumerate(results):
        score, flag = result.get("score"), result.get("anomalous")
        if not isinstance(score, (int, float)) or not 0 < score <= 1 or flag is not (score >= threshold):
            problems.append(f"{label}: results[{index}] = {result!r} with threshold {threshold!r}")
            break
    return problems


def ranks(values):
    """Ranks from 1, ties sharing their average rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result


def agreement(ours, theirs):
    """How two answers on the same rows agree: flags (counts and share) and the scores' rank correlation."""
    ours_flags = [result["anomalous"] for result in ours["results"]]
    their_flags = [result["anomalous"] for result in theirs["results"]]
    pairs = list(zip(ours_flags, their_flags))
    spearman = statistics.correlation(ranks([r["score"] for r in ours["results"]]),
                                      ranks([r["score"] for r in theirs["results"]]))
    return {
        "rows": len(pairs),
        "bothAnomalous": sum(a and b for a, b in pairs),
        "ledgerOnly": sum(a and not b for a, b in pairs),
        "flaskOnly": sum(b and not a for a, b in pairs),
        "neither": sum(not a and not b for a, b in pairs),
        "flagAgreement": sum(a == b for a, b in pairs) / len(pairs),
        "scoreSpearman": spearman,
    }


def check_servers(ledger, flask, bodies, all_holdout, registry_entry):
    """Posts each payload and all holdout rows to both servers; returns (problems, report)."""
    problems, report = [], {}
    answers = {}
    cases = [(str(size), rows) for size, (rows, _) in bodies.items()] + [("holdout", all_holdout)]
    for name, rows in cases:
        for server in (ledger, flask):
            status, answer = http("POST", server.url + "/v1/score", {"rows": rows})
            problems += check_answer(f"{server.label}, {len(rows)} rows", status, answer, len(rows))
            answers[name, server.label] = answer
    model = answers["1", ledger.label].get("model", {})
    if (model.get("version"), model.get("sha256")) != (registry_entry["version"], registry_entry["artifact"]):
        problems.append(f"ledger serves {model}, but the registry says {TARGET} is version "
                        f"{registry_entry['version']}, artifact {registry_entry['artifact']}")
    if not problems:
        report["rows100"] = agreement(answers["100", ledger.label], answers["100", flask.label])
        report["allHoldout"] = agreement(answers["holdout", ledger.label], answers["holdout", flask.label])
        report["ledgerModel"] = model
        report["flaskModel"] = answers["1", flask.label]["model"]
        report["ledgerThreshold"] = answers["1", ledger.label]["threshold"]
        report["flaskThreshold"] = answers["1", flask.label]["threshold"]
    return problems, report


# ---------------------------------------------------------------- load


def wrk_command(server, body, duration, settings):
    return ["wrk", f"-t{settings.threads}", f"-c{settings.connections}", f"-d{duration}s", "--timeout", "10s",
            "--latency", "-s", str(WRK_SCRIPT), server.url + "/v1/score", "--", str(body)]


def load(server, body, duration, settings):
    """One wrk run: its figures, the server's CPU seconds meanwhile and wrk's own."""
    command = wrk_command(server, body, duration, settings)
    load_average = os.getloadavg()[0]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server.cpu_seconds()
    completed = subprocess.run(command, capture_output=True, text=True)
    server_after = server.cpu_seconds()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("WRK_JSON ")]
    if completed.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({completed.returncode}): {shlex.join(command)}\n"
                         f"{completed.stdout}{completed.stderr}")
    figures = json.loads(lines[-1].removeprefix("WRK_JSON "))
    seconds = figures["durationMicros"] / 1e6
    requests = figures["requests"]
    wrk_cpu = ((children_after.ru_utime + children_after.ru_stime)
               - (children_before.ru_utime + children_before.ru_stime))
    server_cpu = None if server_before is None or server_after is None else server_after - server_before
    return {
        "requestsPerSecond": requests / seconds,
        "p50Ms": figures["latencyMicros"]["p50"] / 1000,
        "p99Ms": figures["latencyMicros"]["p99"] / 1000,
        "requests": requests,
        "seconds": seconds,
        "errors": sum(figures["errors"].values()),
        "wrk": figures,
        "serverCpuShare": None if server_cpu is None else server_cpu / seconds,
        "serverCpuMsPerRequest": None if server_cpu is None or not requests else server_cpu * 1000 / requests,
        "wrkCpuShare": wrk_cpu / seconds,
        "loadAverage1m": load_average,  # the machine's, as the run started: other work competes for the 2 cores
    }


def summary(runs):
    """Medians over runs of the figures that are reported."""
    def median(key):
        values = [run[key] for run in runs if run[key] is not None]
        return statistics.median(values) if values else None
    return {key: median(key) for key in ("requestsPerSecond", "p50Ms", "p99Ms", "serverCpuMsPerRequest",
                                         "serverCpuShare", "wrkCpuShare")} | {
        "errors": sum(run["errors"] for run in runs), "runs": runs}


def measure(servers, bodies, settings, rounds):
    """{size: {label: [run, ...]}}: a warm-up of each, then `rounds` alternating runs of each server per payload."""
    results = {size: {server.label: [] for server in servers} for size in bodies}
    for size, (_, body) in bodies.items():
        for server in servers:
            if settings.warmup > 0:
                load(server, body, settings.warmup, settings)
    for round_index in range(rounds):
        for size, (_, body) in bodies.items():
            order = servers if round_index % 2 == 0 else servers[::-1]
            for server in order:
                run = load(server, body, settings.duration, settings)
                results[size][server.label].append(run)
                log(f"   round {round_index + 1}, {size:>3} row{'s' if size > 1 else ' '}, {server.label:<18} "
                    f"{run['requestsPerSecond']:>9,.0f} req/s  p50 {run['p50Ms']:7.2f} ms  p99 {run['p99Ms']:7.2f} ms"
                    + (f"  ERRORS {run['errors']}" if run["errors"] else ""))
    return results


# ---------------------------------------------------------------- report


def environment(ledger, settings, load_at_start):
    def version(package):
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()
    ledger_version = subprocess.run([ledger, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpuCount": os.cpu_count(),
        "python": platform.python_version(),
        "packages": {name: version(name)
                     for name in ("scikit-learn", "numpy", "scipy", "flask", "werkzeug", "gunicorn")},
        "wrk": wrk[0] if wrk else None,
        "ledger": ledger_version,
        "loadAverageAtStart": load_at_start,
        "loadAverageAtEnd": os.getloadavg(),
        "settings": {"rounds": settings.rounds, "durationSeconds": settings.duration, "warmupSeconds": settings.warmup,
                     "connections": settings.connections, "wrkThreads": settings.threads,
                     "gunicornWorkers": GUNICORN_WORKERS},
    }


def ratio(numerator, denominator):
    return numerator / denominator if numerator is not None and denominator else None


def print_tables(results, comparisons, dev, correctness, settings):
    loads = [run["loadAverage1m"]
             for servers in results.values() for figures in servers.values() for run in figures["runs"]]
    log()
    log(f"Scoring over loopback: medians of {settings.rounds} runs of {settings.duration} s each, wrk -t{settings.threads} "
        f"-c{settings.connections}; the machine's 1-minute load average {min(loads):.1f}-{max(loads):.1f} on "
        f"{os.cpu_count()} cores")
    log(f"{'payload':<9}{'server':<20}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}  runs (req/s)")
    for size, servers in results.items():
        label = f"{size} row{'s' if size > 1 else ''}"
        for name, figures in servers.items():
            rounds = " ".join(f"{run['requestsPerSecond']:,.0f}" for run in figures["runs"])
            cpu = figures["serverCpuMsPerRequest"]
            log(f"{label:<9}{name:<20}{figures['requestsPerSecond']:>10,.0f}{figures['p50Ms']:>9.2f}"
                f"{figures['p99Ms']:>9.2f}{'' if cpu is None else f'{cpu:>12.3f}'}  {rounds}")
            label = ""
        comparison = comparisons[size]
        log(f"{'':<9}throughput ledger / Flask {comparison['throughputRatio']:.1f}x (per round "
            f"{comparison['roundRatioMin']:.1f}-{comparison['roundRatioMax']:.1f}x); Flask / ledger: "
            f"p50 {comparison['p50Ratio']:.1f}x, p99 {comparison['p99Ratio']:.1f}x"
            + ("" if comparison["cpuRatio"] is None else f", CPU per request {comparison['cpuRatio']:.1f}x"))
    if dev:
        log()
        log("Flask development server (flask run, threaded, one process), one run per payload:")
        for size, run in dev.items():
            log(f"  {size:>3} row{'s' if size > 1 else ' '}  {run['requestsPerSecond']:>9,.0f} req/s  "
                f"p50 {run['p50Ms']:.2f} ms  p99 {run['p99Ms']:.2f} ms"
                + (f"  ERRORS {run['errors']}" if run["errors"] else ""))
    log()
    log("Targets (reported, not enforced):")
    for size in results:
        met = comparisons[size]["throughputRatio"] >= TARGET_THROUGHPUT_RATIO
        log(f"  throughput, {size} row{'s' if size > 1 else ''}: {comparisons[size]['throughputRatio']:.1f}x Flask "
            f"(at least {TARGET_THROUGHPUT_RATIO:.0f}x): {'met' if met else 'NOT met'}")
    p99 = results[1]["ledger serve"]["p99Ms"]
    log(f"  ledger p99, 1 row: {p99:.2f} ms (at most {TARGET_P99_MS:.0f} ms): "
        f"{'met' if p99 <= TARGET_P99_MS else 'NOT met'}")
    for name, figures in correctness.items():
        if name in ("rows100", "allHoldout"):
            log(f"Flag agreement on {figures['rows']} {'payload' if name == 'rows100' else 'holdout'} rows: "
                f"{figures['flagAgreement']:.1%} (both {figures['bothAnomalous']}, ledger only {figures['ledgerOnly']}, "
                f"Flask only {figures['flaskOnly']}, neither {figures['neither']}); "
                f"score rank correlation {figures['scoreSpearman']:.3f}")


def main():
    global OUTPUT
    settings = parse_arguments()
    if settings.json:
        OUTPUT = sys.stderr
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install wrk); "
                         "the run script installs it when it runs as root")
    ledger = str(Path(settings.ledger).resolve())
    load_at_start = os.getloadavg()
    temporary = tempfile.TemporaryDirectory(prefix="ledger-service-bench-")
    folder = Path(temporary.name)
    servers = []
    try:
        if settings.workspace:
            workspace = settings.workspace.resolve()
        else:
            workspace = folder / "workspace"
            log(f"==> ledger quickstart --dir {workspace}")
            run_json([ledger, "quickstart", "--dir", str(workspace), "--json"])
        entry, dataset = serving_dataset(ledger, workspace)
        log(f"==> serving {entry['name']}@{entry['version']}, trained on {dataset}")
        all_holdout = holdout_rows(dataset)
        bodies = payloads(all_holdout, folder)

        port = free_port()
        ledger_server = Server("ledger serve", [ledger, "serve", "--workspace", str(workspace), "--host", "127.0.0.1",
                                                "--port", str(port), "--target", TARGET], port, folder / "ledger.log")
        servers.append(ledger_server)
        ledger_server.wait_ready()
        model = http("GET", ledger_server.url + "/v1/model")[1]
        flask_server = start_gunicorn(dataset, model, folder)
        servers.append(flask_server)
        flask_server.wait_ready()
        log(f"==> ready: {shlex.join(ledger_server.command)}")
        log(f"==> ready: {shlex.join(flask_server.command)}  (cwd {SCRIPT_FOLDER})")

        problems, correctness = check_servers(ledger_server, flask_server, bodies, all_holdout, entry)
        for problem in problems:
            log(f"CHECK FAILED: {problem}")

        log(f"==> load: {shlex.join(wrk_command(ledger_server, bodies[1][1], settings.duration, settings))}")
        measured = measure([ledger_server, flask_server], bodies, settings, settings.rounds)
        memory = {server.label: server.rss_bytes() for server in servers}

        dev = {}
        if not settings.skip_flask_dev:
            dev_server = start_flask_dev(dataset, model, folder)
            servers.append(dev_server)
            dev_server.wait_ready()
            log(f"==> ready: {shlex.join(dev_server.command)}")
            dev_runs = measure([dev_server], bodies, settings, 1)
            dev = {size: runs[dev_server.label][0] for size, runs in dev_runs.items()}
            memory[dev_server.label] = dev_server.rss_bytes()
    finally:
        stopped = {server.label: server.stop() for server in servers}
        if settings.keep:
            shutil.copytree(folder, settings.keep, dirs_exist_ok=True)
        temporary.cleanup()

    results = {size: {label: summary(runs) for label, runs in servers_runs.items()}
               for size, servers_runs in measured.items()}
    comparisons = {}
    for size, figures in results.items():
        ours, theirs = figures["ledger serve"], figures["Flask (gunicorn)"]
        round_ratios = [a["requestsPerSecond"] / b["requestsPerSecond"] for a, b in zip(ours["runs"], theirs["runs"])]
        comparisons[size] = {
            "throughputRatio": ratio(ours["requestsPerSecond"], theirs["requestsPerSecond"]),
            "roundRatioMin": min(round_ratios), "roundRatioMax": max(round_ratios), "roundRatios": round_ratios,
            "p50Ratio": ratio(theirs["p50Ms"], ours["p50Ms"]),  # how many times lower ledger's is
            "p99Ratio": ratio(theirs["p99Ms"], ours["p99Ms"]),
            "cpuRatio": ratio(theirs["serverCpuMsPerRequest"], ours["serverCpuMsPerRequest"]),
            "throughputTargetMet":
                ratio(ours["requestsPerSecond"], theirs["requestsPerSecond"]) >= TARGET_THROUGHPUT_RATIO,
        }
    p99 = results[1]["ledger serve"]["p99Ms"]
    print_tables(results, comparisons, dev, correctness, settings)

    errors = sum(figures["errors"] for servers_figures in results.values() for figures in servers_figures.values())
    if errors:
        problems.append(f"{errors} requests failed under load (see the runs' wrk.errors)")
        log(f"LOAD ERRORS: {errors} requests failed under load")
    for label, status in stopped.items():
        log(f"{label} stopped: " + (f"killed by signal {-status}" if isinstance(status, int) and status < 0
                                    else f"exit status {status}"))
        if label == "ledger serve" and status != 0:
            problems.append(f"ledger serve exited with {status} on SIGTERM")
    log(f"Resident memory after the runs: " + ", ".join(
        f"{label} {rss / 2**20:.0f} MiB" for label, rss in memory.items() if rss is not None))

    if settings.json:
        document = {
            "environment": environment(ledger, settings, load_at_start),
            "commands": {
                "ledger": ledger_server.command,
                "flask": flask_server.command,
                "flaskCwd": str(SCRIPT_FOLDER),
                "wrk": {str(size): wrk_command(ledger_server, body, settings.duration, settings)
                        for size, (_, body) in bodies.items()},
            },
            "results": {str(size): figures for size, figures in results.items()},
            "comparisons": {str(size): comparison for size, comparison in comparisons.items()},
            "flaskDevServer": {str(size): run for size, run in dev.items()},
            "targets": {
                "throughputRatioAtLeast": TARGET_THROUGHPUT_RATIO,
                "throughputMet": {str(size): comparison["throughputTargetMet"] for size, comparison in comparisons.items()},
                "ledgerP99MsAtMost1Row": TARGET_P99_MS,
                "p99Met": p99 <= TARGET_P99_MS,
            },
            "correctness": {"problems": problems} | correctness,
            "residentBytes": memory,
            "stopped": stopped,
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
