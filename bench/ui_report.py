"""The nginx-against-Warroom table of `scripts/bench ui`: reads wrk's
--latency output in LOGDIR/PAGE-nginx.txt and LOGDIR/PAGE-warroom.txt and
prints requests/s, p50 and p99 per page and server as Markdown.

    python3 bench/ui_report.py LOGDIR PAGE...
"""

import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise SystemExit(f"not a wrk latency: {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def parse(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    if not (rate and p50 and p99):
        raise SystemExit(f"{path}: no wrk totals; last lines:\n{text[-800:]}")
    total = re.search(r"^\s+(\d+) requests in", text, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    transfer = re.search(r"^Transfer/sec:\s+(\S+)", text, re.M)
    return {
        "rate": float(rate.group(1)),
        "p50": ms(p50.group(1)),
        "p99": ms(p99.group(1)),
        "requests": int(total.group(1)) if total else 0,
        "non2xx": int(bad.group(1)) if bad else 0,
        "errors": errors.group(1).strip() if errors else "",
        "transfer": transfer.group(1) if transfer else "",
    }


def fmt_ms(x):
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms"


def main():
    logdir, pages = sys.argv[1], sys.argv[2:]
    print("| page | server | requests/s | p50 | p99 | transfer/s | answers |")
    print("|---|---|---:|---:|---:|---:|---|")
    ratios = []
    for page in pages:
        rows = {s: parse(f"{logdir}/{page}-{s}.txt") for s in ("nginx", "warroom")}
        for server, r in rows.items():
            answers = f"{r['requests']:,}"
            if r["non2xx"]:
                answers += f", **{r['non2xx']:,} not 2xx**"
            if r["errors"]:
                answers += f", socket errors: {r['errors']}"
            print(
                f"| {page} | {server} | {r['rate']:,.0f} | {fmt_ms(r['p50'])} | "
                f"{fmt_ms(r['p99'])} | {r['transfer']} | {answers} |"
            )
        ratios.append(f"{page} {rows['warroom']['rate'] / rows['nginx']['rate']:.3f}x")
    print()
    print("Warroom/nginx requests/s: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
