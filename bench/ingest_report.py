#!/usr/bin/env python3
"""Helper of `scripts/bench ingest`: turns one wrk run into a result line, and
result lines into Markdown tables.

  ingest_report.py record --case a --system warroom --alerts-per-request 1 \
      --wrk-log FILE --rss-samples FILE --hwm-kb N [--open-check N] >> results.jsonl
  ingest_report.py report results.jsonl

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
    """wrk's totals from the BENCH_RESULT line of bench/alerts.lua, plus the
    lines wrk prints about errors (kept verbatim)."""
    text = open(path, encoding="utf-8", errors="replace").read()
    match = re.search(r"^BENCH_RESULT (\{.*\})$", text, re.M)
    if not match:
        raise SystemExit(f"{path}: no BENCH_RESULT line; did wrk run? last lines:\n{text[-800:]}")
    result = json.loads(match.group(1))
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
    failed = wrk["errors"]["status"]
    seconds = wrk["duration_us"] / 1e6
    accepted_alerts = (requests - failed) * args.alerts_per_request
    if args.mode == "same":
        open_alerts = args.alerts_per_request if requests > failed else 0
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
        "seconds": round(seconds, 3),
        "requests_per_s": requests / seconds if seconds else 0.0,
        "alerts_per_s": requests * args.alerts_per_request / seconds if seconds else 0.0,
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


def per_alert(r):
    if r["rss_start_kb"] is None or r["rss_end_kb"] is None or r["open_alerts"] <= 0:
        return None
    return (r["rss_end_kb"] - r["rss_start_kb"]) * 1024 / r["open_alerts"]


def report(args):
    rows = [json.loads(l) for l in open(args.results, encoding="utf-8") if l.strip()]
    by = {(r["case"], r["system"]): r for r in rows}
    out = []
    for case, title in CASES.items():
        if not any((case, s) in by for s in SYSTEMS):
            continue
        out.append(f"### {title}\n")
        out.append("| system | alerts/s | requests/s | p50 | p99 | peak RSS (VmHWM) | non-2xx | socket errors |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for s in SYSTEMS:
            r = by.get((case, s))
            if not r:
                out.append(f"| {s} | failed | | | | | | |")
                continue
            e = r["errors"]
            sock = f"connect {e['connect']}, read {e['read']}, write {e['write']}, timeout {e['timeout']}"
            out.append(
                f"| {s} | {fmt_rate(r['alerts_per_s'])} | {fmt_rate(r['requests_per_s'])} | "
                f"{fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {mib(r['hwm_kb'])} | "
                f"{e['status']} | {sock} |"
            )
        w, a = by.get((case, "warroom")), by.get((case, "alertmanager"))
        if w and a:
            out.append(
                f"| **Warroom/Alertmanager** | **{ratio(w['alerts_per_s'], a['alerts_per_s'])}** | "
                f"{ratio(w['requests_per_s'], a['requests_per_s'])} | {ratio(w['p50_ms'], a['p50_ms'])} | "
                f"{ratio(w['p99_ms'], a['p99_ms'])} | {ratio(w['hwm_kb'], a['hwm_kb'])} | | |"
            )
        out.append("")
    # Memory against open alerts.
    out.append("### Memory against open alerts\n")
    out.append(
        "Open alerts = accepted requests x alerts per request, from wrk's totals "
        "(for (c), the 100 re-sent alerts). Checked against the server after the run "
        "(Warroom: firing rows in its SQLite file after shutdown; Alertmanager: the sum of "
        "its `alertmanager_alerts` gauge). RSS is VmRSS sampled every second while wrk ran: "
        "at the start, half way and at the end.\n"
    )
    out.append("| case | system | open alerts | checked | RSS start | RSS half way | RSS end | growth per open alert | DB on disk |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        for s in SYSTEMS:
            r = by.get((case, s))
            if not r:
                continue
            pa = per_alert(r)
            pa_txt = "n/a" if pa is None or r["mode"] == "same" else f"{pa:,.0f} B"
            check = "n/a" if r["open_check"] is None else f"{r['open_check']:,}"
            disk = "" if r.get("disk_kb") is None else mib(r["disk_kb"])
            out.append(
                f"| {case} | {s} | {r['open_alerts']:,} | {check} | {mib(r['rss_start_kb'])} | "
                f"{mib(r['rss_mid_kb'])} | {mib(r['rss_end_kb'])} | {pa_txt} | {disk} |"
            )
    out.append("")
    lines = [
        f"- {r['case']} {r['system']}: {l}"
        for r in rows
        for l in r["wrk_error_lines"]
    ]
    out.append("### wrk error lines\n")
    out.extend(lines or ["- none: every response was 2xx/3xx and wrk saw no socket errors"])
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
    r.set_defaults(func=record)
    s = sub.add_parser("report")
    s.add_argument("results")
    s.set_defaults(func=report)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
