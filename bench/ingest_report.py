#!/usr/bin/env python3
"""Helper of `scripts/bench ingest`: turns one wrk run into a result line, and
result lines into Markdown tables.

  ingest_report.py record --case a --system warroom --alerts-per-request 1 \
      --wrk-log FILE --rss-samples FILE --hwm-kb N [--open-check N] \
      [--round K] [--cpu-busy PCT --cpu-steal PCT] >> results.jsonl
  ingest_report.py report results.jsonl [--note TEXT]...

With several rounds of a case, the tables show each system's median round
(by alerts/s) and a last table lists every round.

Only the standard library; no network.
"""

import argparse
import json
import re
import sys

CASES = {
    "a": "(a) one new alert per request",
    "b": "(b) 100 new alerts per request",
    "c": "(c) the same 100 alerts re-sent (dedup)",
}
SYSTEMS = ("warroom", "alertmanager")


def parse_wrk(path):
    """wrk's totals from the BENCH_RESULT line of bench/alerts.lua, the first
    body of each failing status (BENCH_SAMPLE lines), and the lines wrk
    prints about errors (kept verbatim)."""
    text = open(path, encoding="utf-8", errors="replace").read()
    match = re.search(r"^BENCH_RESULT (\{.*\})$", text, re.M)
    if not match:
        raise SystemExit(f"{path}: no BENCH_RESULT line; did wrk run? last lines:\n{text[-800:]}")
    result = json.loads(match.group(1))
    result["samples"] = {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r"^BENCH_SAMPLE (\d+) (\".*\")$", text, re.M)
    }
    result["wrk_error_lines"] = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(("Non-2xx or 3xx responses", "Socket errors"))
    ]
    return result


def read_samples(path):
    """`SECONDS RSS_KB` lines written while wrk ran."""
    samples = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    samples.append((float(parts[0]), int(parts[1])))
    except FileNotFoundError:
        pass
    return samples


def record(args):
    wrk = parse_wrk(args.wrk_log)
    samples = read_samples(args.rss_samples)
    requests = wrk["requests"]
    statuses = {int(k): v for k, v in wrk.get("statuses", {}).items()}
    if statuses:
        accepted = sum(n for status, n in statuses.items() if 200 <= status < 300)
    else:
        accepted = requests - wrk["errors"]["status"]
    seconds = wrk["duration_us"] / 1e6
    accepted_alerts = accepted * args.alerts_per_request
    if args.mode == "same":
        open_alerts = args.alerts_per_request if accepted else 0
    else:
        open_alerts = accepted_alerts
    rss_start = samples[0][1] if samples else None
    rss_end = samples[-1][1] if samples else None
    rss_mid = None
    if samples:
        half = samples[-1][0] / 2
        rss_mid = min(samples, key=lambda s: abs(s[0] - half))[1]
    line = {
        "case": args.case,
        "system": args.system,
        "mode": args.mode,
        "alerts_per_request": args.alerts_per_request,
        "requests": requests,
        "accepted_requests": accepted,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "failure_samples": wrk["samples"],
        "accepted_alerts_per_second": [n * args.alerts_per_request for n in wrk.get("ok_per_second", [])],
        "seconds": round(seconds, 3),
        "requests_per_s": requests / seconds if seconds else 0.0,
        "alerts_per_s": accepted_alerts / seconds if seconds else 0.0,
        "offered_alerts_per_s": requests * args.alerts_per_request / seconds if seconds else 0.0,
        "p50_ms": wrk["latency_us"]["p50"] / 1000,
        "p90_ms": wrk["latency_us"]["p90"] / 1000,
        "p99_ms": wrk["latency_us"]["p99"] / 1000,
        "max_ms": wrk["latency_us"]["max"] / 1000,
        "errors": wrk["errors"],
        "wrk_error_lines": wrk["wrk_error_lines"],
        "hwm_kb": args.hwm_kb,
        "rss_start_kb": rss_start,
        "rss_mid_kb": rss_mid,
        "rss_end_kb": rss_end,
        "open_alerts": open_alerts,
        "open_check": args.open_check,
        "open_check_how": args.open_check_how,
        "disk_kb": args.disk_kb,
        "round": args.round,
        "cpu_busy_pct": args.cpu_busy,
        "cpu_steal_pct": args.cpu_steal,
    }
    print(json.dumps(line))


def mib(kb):
    return "n/a" if kb is None else f"{kb / 1024:.1f} MiB"


def ratio(w, a, digits=2):
    if w is None or a is None or a == 0:
        return "n/a"
    return f"{w / a:.{digits}f}x"


def fmt_ms(ms):
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def fmt_rate(x):
    return f"{x:,.0f}"


def per_alert(r, count):
    if r["rss_start_kb"] is None or r["rss_end_kb"] is None or not count or r["mode"] == "same":
        return "n/a"
    return f"{(r['rss_end_kb'] - r['rss_start_kb']) * 1024 / count:,.0f} B"


def windows(r, count=4):
    """Accepted alerts/s in up to COUNT equal windows of the run's whole
    seconds (the first and last second are partial and left out)."""
    series = r.get("accepted_alerts_per_second", [])[1:-1]
    count = min(count, len(series))
    if count == 0:
        return []
    size = len(series) / count
    out = []
    for i in range(count):
        part = series[round(i * size):round((i + 1) * size)]
        out.append(sum(part) / len(part))
    return out


def answers(r):
    return ", ".join(f"{n:,} x {status}" for status, n in r["statuses"].items()) or "none"


def median_round(runs):
    """The run with the median alerts/s (the lower middle one of an even count)."""
    ordered = sorted(runs, key=lambda r: r["alerts_per_s"])
    return ordered[(len(ordered) - 1) // 2]


def fmt_pct(x):
    return "n/a" if x is None else f"{x:.0f}%"


def rounds_table(rounds, by):
    out = ["### Every round\n"]
    out.append(
        "Each round starts both servers afresh, one after the other, Warroom first. "
        "The tables above show each system's median round. CPU busy and steal are "
        "the whole machine's, from /proc/stat over the wrk run: steal is time the "
        "hypervisor gave this VM's CPUs to others, which no server controls.\n"
    )
    out.append("| case | round | Warroom alerts/s | busy / steal | Alertmanager alerts/s | busy / steal | Warroom/Alertmanager |")
    out.append("|---|---:|---:|---|---:|---|---:|")
    for case in CASES:
        ws = sorted(rounds.get((case, "warroom"), []), key=lambda r: r.get("round") or 0)
        ams = sorted(rounds.get((case, "alertmanager"), []), key=lambda r: r.get("round") or 0)
        for i in range(max(len(ws), len(ams))):
            w = ws[i] if i < len(ws) else None
            a = ams[i] if i < len(ams) else None
            cells = []
            for r in (w, a):
                if r is None:
                    cells += ["failed", ""]
                else:
                    cells += [fmt_rate(r["alerts_per_s"]), f"{fmt_pct(r.get('cpu_busy_pct'))} / {fmt_pct(r.get('cpu_steal_pct'))}"]
            both = ratio(w["alerts_per_s"], a["alerts_per_s"]) if w and a else ""
            out.append(f"| {case} | {i + 1} | " + " | ".join(cells) + f" | {both} |")
        w, a = by.get((case, "warroom")), by.get((case, "alertmanager"))
        if w and a:
            out.append(f"| {case} | median | {fmt_rate(w['alerts_per_s'])} | | {fmt_rate(a['alerts_per_s'])} | | **{ratio(w['alerts_per_s'], a['alerts_per_s'])}** |")
    out.append("")
    return out


def report(args):
    rows = [json.loads(l) for l in open(args.results, encoding="utf-8") if l.strip()]
    rounds = {}
    for r in rows:
        rounds.setdefault((r["case"], r["system"]), []).append(r)
    by = {key: median_round(runs) for key, runs in rounds.items()}
    out = []
    for note in args.note:
        out.append(f"{note}\n")
    out.append(
        "alerts/s counts alerts in 2xx answers only (accepted); requests/s counts every "
        "answer. Latency is wrk's, over every answer, so it includes any non-2xx answers.\n"
    )
    for case, title in CASES.items():
        if not any((case, s) in by for s in SYSTEMS):
            continue
        out.append(f"### {title}\n")
        out.append("| system | alerts/s accepted | requests/s (all answers) | p50 | p99 | peak RSS (VmHWM) | answers | socket errors |")
        out.append("|---|---:|---:|---:|---:|---:|---|---|")
        for s in SYSTEMS:
            r = by.get((case, s))
            if not r:
                out.append(f"| {s} | failed | | | | | | |")
                continue
            e = r["errors"]
            sock = sum(e[k] for k in ("connect", "read", "write", "timeout"))
            sock_txt = "0" if sock == 0 else (
                f"connect {e['connect']}, read {e['read']}, write {e['write']}, timeout {e['timeout']}"
            )
            out.append(
                f"| {s} | {fmt_rate(r['alerts_per_s'])} | {fmt_rate(r['requests_per_s'])} | "
                f"{fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {mib(r['hwm_kb'])} | "
                f"{answers(r)} | {sock_txt} |"
            )
        w, a = by.get((case, "warroom")), by.get((case, "alertmanager"))
        if w and a:
            out.append(
                f"| **Warroom/Alertmanager** | **{ratio(w['alerts_per_s'], a['alerts_per_s'])}** | "
                f"{ratio(w['requests_per_s'], a['requests_per_s'])} | {ratio(w['p50_ms'], a['p50_ms'])} | "
                f"{ratio(w['p99_ms'], a['p99_ms'])} | {ratio(w['hwm_kb'], a['hwm_kb'])} | | |"
            )
        out.append("")
    out.append("### Memory against open alerts\n")
    out.append(
        "Sent = alerts in 2xx answers, from wrk's totals (for (c), the 100 re-sent alerts). "
        "Held = what the server holds after the run (Warroom: firing rows in its SQLite file "
        "after shutdown; Alertmanager: the sum of its `alertmanager_alerts` gauge); requests "
        "still in flight when wrk stops make it a little larger than sent. RSS is VmRSS "
        "sampled every second while wrk ran: before the first request, half way, at the end. "
        "Growth per alert = (RSS end - RSS start) / alerts.\n"
    )
    out.append("| case | system | sent | held | RSS start | RSS half way | RSS end | growth per sent alert | growth per held alert | DB files on disk |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        for s in SYSTEMS:
            r = by.get((case, s))
            if not r:
                continue
            held = r["open_check"]
            held_txt = "n/a" if held is None else f"{held:,}"
            disk = "" if r.get("disk_kb") is None else mib(r["disk_kb"])
            out.append(
                f"| {case} | {s} | {r['open_alerts']:,} | {held_txt} | {mib(r['rss_start_kb'])} | "
                f"{mib(r['rss_mid_kb'])} | {mib(r['rss_end_kb'])} | {per_alert(r, r['open_alerts'])} | "
                f"{per_alert(r, held)} | {disk} |"
            )
    out.append("")
    out.append("### Accepted alerts/s over the run\n")
    out.append(
        "2xx answers counted per second by bench/alerts.lua, x alerts per request, "
        "averaged over four equal parts of the run (first and last, partial, second "
        "left out). A falling rate means ingest slows as the server holds more alerts.\n"
    )
    out.append("| case | system | 1st quarter | 2nd quarter | 3rd quarter | 4th quarter | last / first |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for case in CASES:
        for s in SYSTEMS:
            r = by.get((case, s))
            if not r:
                continue
            w = windows(r)
            cells = [fmt_rate(x) for x in w] + [""] * (4 - len(w))
            trend = ratio(w[-1], w[0]) if len(w) >= 2 else "n/a"
            out.append(f"| {case} | {s} | " + " | ".join(cells) + f" | {trend} |")
    out.append("")
    if any(len(runs) > 1 for runs in rounds.values()):
        out.extend(rounds_table(rounds, by))
    out.append("### Errors\n")
    lines = [f"- ({r['case']}) {r['system']}: wrk: {l}" for r in rows for l in r["wrk_error_lines"]]
    for r in rows:
        for status, body in r.get("failure_samples", {}).items():
            lines.append(f"- ({r['case']}) {r['system']}: first {status} answer: `{body.strip()}`")
    out.extend(lines or ["- none: every answer was 2xx and wrk saw no socket errors"])
    out.append("")
    print("\n".join(out))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--case", required=True, choices=sorted(CASES))
    r.add_argument("--system", required=True, choices=SYSTEMS)
    r.add_argument("--mode", required=True, choices=("new", "same"))
    r.add_argument("--alerts-per-request", type=int, required=True)
    r.add_argument("--wrk-log", required=True)
    r.add_argument("--rss-samples", required=True)
    r.add_argument("--hwm-kb", type=int, required=True)
    r.add_argument("--open-check", type=int)
    r.add_argument("--open-check-how", default="")
    r.add_argument("--disk-kb", type=int)
    r.add_argument("--round", type=int, default=1)
    r.add_argument("--cpu-busy", type=float, help="machine CPU busy %% over the run")
    r.add_argument("--cpu-steal", type=float, help="machine CPU steal %% over the run")
    r.set_defaults(func=record)
    s = sub.add_parser("report")
    s.add_argument("results")
    s.add_argument("--note", action="append", default=[], help="a paragraph to print first")
    s.set_defaults(func=report)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
