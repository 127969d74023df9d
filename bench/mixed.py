#!/usr/bin/env python3
"""API latency under alert load: scripts/bench mixed.

For each backend, starts `warroom serve` (release build) on a fresh
database, sends PagerDuty events to /v2/enqueue at a fixed rate from a pool
of threads (open loop: a late request is sent at once, never skipped), and
meanwhile a prober calls the API one request at a time: list incidents,
declare an incident, list alerts, and an Alertmanager webhook post. It
reports each call's p50, p99 and max, first with no load (the baseline) and
then under load, and PASS/FAIL against the 100 ms p99 target.

The peer, measured in the same run: Debian's prometheus-alertmanager, sent
the same rate of alerts (API v2, what Prometheus sends) while the prober
lists its alerts and reads its status.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not answer {path} within {seconds}s")


class Client:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, port, token=None):
        self.port, self.token, self.conn = port, token, None

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request(method, path, data, headers)
                r = self.conn.getresponse()
                payload = r.read()
                return r.status, payload
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    return 0, b""
        return 0, b""


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Load:
    """`rate` requests/s from `threads` threads, each on its own schedule."""

    def __init__(self, port, rate, threads, make):
        self.port, self.rate, self.threads, self.make = port, rate, threads, make
        self.stop = threading.Event()
        self.sent = [0] * threads
        self.failed = [0] * threads
        self.workers = []

    def start(self):
        self.started = time.perf_counter()
        for n in range(self.threads):
            t = threading.Thread(target=self.run, args=(n,), daemon=True)
            t.start()
            self.workers.append(t)

    def run(self, n):
        client = Client(self.port)
        interval = self.threads / self.rate
        next_at = self.started + n * interval / self.threads
        i = n
        while not self.stop.is_set():
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            method, path, body = self.make(i)
            status, _ = client.call(method, path, body)
            self.sent[n] += 1
            if not 200 <= status < 300:
                self.failed[n] += 1
            next_at += interval
            i += self.threads

    def finish(self):
        self.stop.set()
        for t in self.workers:
            t.join()
        elapsed = time.perf_counter() - self.started
        return sum(self.sent) / elapsed, sum(self.failed)


def probe(port, token, calls, seconds, pause=0.02):
    """Calls each of `calls` in turn, one at a time, for `seconds`."""
    client = Client(port, token)
    latencies = {name: [] for name, _, _, _ in calls}
    errors = {name: 0 for name, _, _, _ in calls}
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        name, method, path, body = calls[i % len(calls)]
        body = body(i) if callable(body) else body
        t0 = time.perf_counter()
        status, payload = client.call(method, path, body)
        latencies[name].append((time.perf_counter() - t0) * 1000)
        if not 200 <= status < 300:
            errors[name] += 1
            if errors[name] == 1:
                print(f"    {name}: HTTP {status} {payload[:200]!r}", file=sys.stderr)
        i += 1
        time.sleep(pause)
    return latencies, errors


def pd_event(key):
    def make(i):
        return (
            "POST",
            "/v2/enqueue",
            {
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": f"load-{i % 5000}",
                "payload": {
                    "summary": f"Load alert {i % 5000}",
                    "source": f"host-{i % 50}",
                    "severity": "warning",
                },
            },
        )

    return make


def am_alert(i):
    return (
        "POST",
        "/api/v2/alerts",
        [
            {
                "labels": {
                    "alertname": "Load",
                    "instance": f"host-{i % 50}",
                    "n": str(i % 5000),
                    "severity": "warning",
                },
                "annotations": {"summary": f"Load alert {i % 5000}"},
            }
        ],
    )


def webhook(i):
    return {
        "version": "4",
        "status": "firing",
        "receiver": "warroom",
        "groupKey": "{}:{alertname=\"Probe\"}",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Probe", "instance": f"probe-{i % 20}"},
                "annotations": {"summary": "Probe alert"},
                "startsAt": "2026-12-01T00:00:00Z",
            }
        ],
    }


def rows(title, latencies, errors, target=None):
    out = []
    for name, values in latencies.items():
        p99 = percentile(values, 99)
        verdict = ""
        if target is not None:
            verdict = " PASS" if p99 < target else " FAIL"
        out.append(
            f"| {title} | {name} | {len(values)} | {percentile(values, 50):.1f} | "
            f"{p99:.1f} | {max(values) if values else float('nan'):.1f} | {errors[name]} |{verdict}"
        )
    return out


def run_warroom(args, backend, logs):
    data = tempfile.mkdtemp(prefix="warroom-mixed-")
    db_name = None
    if backend == "sqlite":
        url = f"sqlite://{data}/warroom.db"
    else:
        admin = os.environ.get("WARROOM_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        db_name = f"warroom_bench_mixed_{os.getpid()}"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {db_name}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {db_name}"], check=True)
        parts = urllib.parse.urlsplit(admin)
        url = urllib.parse.urlunsplit(parts._replace(path="/" + db_name))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    secret = os.path.join(data, "secret")
    with open(secret, "w") as f:
        subprocess.run([args.warroom, "secret", "generate"], stdout=f, check=True)
    os.chmod(secret, 0o600)
    env["WARROOM_SECRET_FILE"] = secret
    log = open(os.path.join(logs, f"warroom-{backend}.log"), "w")
    server = subprocess.Popen(
        [args.warroom, "serve", "--listen", f"127.0.0.1:{port}", "--database-url", url,
         "--ingest-rate-limit", "0"],
        stdout=subprocess.PIPE, stderr=log, env=env, text=True,
    )
    token = None
    deadline = time.time() + 60
    while token is None and time.time() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        m = re.search(r"export WARROOM_TOKEN=(\S+)", line)
        if m:
            token = m.group(1)
    if token is None:
        server.kill()
        raise SystemExit(f"warroom ({backend}) printed no admin token; see {log.name}")
    threading.Thread(target=server.stdout.read, daemon=True).start()
    wait_http(port, "/healthz")
    api = Client(port, token)
    keys = {}
    for kind in ("pagerduty", "alertmanager"):
        status, body = api.call("POST", "/api/v1/integrations",
                                {"service": "api", "name": f"bench-{kind}", "kind": kind})
        if status != 201:
            raise SystemExit(f"creating an integration failed: {status} {body!r}")
        keys[kind] = json.loads(body)["key"]
    calls = [
        ("GET /api/v1/incidents", "GET", "/api/v1/incidents?limit=20", None),
        ("POST /api/v1/incidents", "POST", "/api/v1/incidents",
         lambda i: {"title": f"Probe incident {i}", "severity": "SEV-3"}),
        ("GET /api/v1/alerts", "GET", "/api/v1/alerts?limit=20", None),
        ("POST Alertmanager webhook", "POST", f"/integrations/alertmanager/{keys['alertmanager']}",
         webhook),
    ]
    try:
        print(f"==> warroom on {backend}: baseline {args.baseline}s", file=sys.stderr)
        base, base_err = probe(port, token, calls, args.baseline)
        print(f"==> warroom on {backend}: {args.rate} PagerDuty events/s for {args.duration}s",
              file=sys.stderr)
        load = Load(port, args.rate, args.threads, pd_event(keys["pagerduty"]))
        load.start()
        time.sleep(1)  # let the load settle in before measuring
        loaded, loaded_err = probe(port, token, calls, args.duration)
        rate, failed = load.finish()
        if server.poll() is not None:
            raise SystemExit(f"warroom ({backend}) died; see {log.name}")
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        if db_name:
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {db_name}"])
        shutil.rmtree(data, ignore_errors=True)
    return base, base_err, loaded, loaded_err, rate, failed


def run_alertmanager(args, logs):
    data = tempfile.mkdtemp(prefix="alertmanager-mixed-")
    port = free_port()
    config = os.path.join(data, "am.yml")
    with open(config, "w") as f:
        f.write("route:\n  receiver: blackhole\nreceivers:\n- name: blackhole\n")
    log = open(os.path.join(logs, "alertmanager.log"), "w")
    server = subprocess.Popen(
        [args.alertmanager, f"--config.file={config}", f"--storage.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=log, stderr=log,
    )
    try:
        wait_http(port, "/-/ready")
        calls = [
            ("GET /api/v2/alerts", "GET", "/api/v2/alerts?silenced=false&inhibited=false", None),
            ("GET /api/v2/status", "GET", "/api/v2/status", None),
        ]
        print(f"==> alertmanager: {args.rate} alerts/s for {args.duration}s", file=sys.stderr)
        load = Load(port, args.rate, args.threads, am_alert)
        load.start()
        time.sleep(1)
        loaded, loaded_err = probe(port, None, calls, args.duration)
        rate, failed = load.finish()
    finally:
        server.terminate()
        server.wait(20)
        shutil.rmtree(data, ignore_errors=True)
    return loaded, loaded_err, rate, failed


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warroom", required=True)
    p.add_argument("--alertmanager", required=True)
    p.add_argument("--backend", default="all", choices=["sqlite", "postgres", "all"])
    p.add_argument("--rate", type=int, default=1000, help="alerts per second of background load")
    p.add_argument("--duration", type=int, default=20, help="seconds under load")
    p.add_argument("--baseline", type=int, default=5, help="seconds without load")
    p.add_argument("--threads", type=int, default=16, help="load-generating connections")
    p.add_argument("--logs", required=True)
    args = p.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    lines = [
        f"API latency in ms, one call at a time, with {args.rate} alerts/s of background load "
        f"from {args.threads} connections ({args.duration} s; baseline {args.baseline} s without load).",
        "",
        "| server | call | n | p50 | p99 | max | errors | p99 < 100 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    rates = []
    for backend in backends:
        base, base_err, loaded, loaded_err, rate, failed = run_warroom(args, backend, args.logs)
        lines = rows(f"Warroom {backend}, no load", base, base_err)
        lines += rows(f"Warroom {backend}, under load", loaded, loaded_err, target=100)
        print("\n".join(lines), flush=True)
        rates.append(f"Warroom {backend}: {rate:.0f} events/s sent, {failed} not 2xx")
    loaded, loaded_err, rate, failed = run_alertmanager(args, args.logs)
    print("\n".join(rows("Alertmanager, under load", loaded, loaded_err)))
    rates.append(f"Alertmanager: {rate:.0f} alerts/s sent, {failed} not 2xx")
    print("\n".join([""] + [f"- {r}" for r in rates]))


if __name__ == "__main__":
    main()
