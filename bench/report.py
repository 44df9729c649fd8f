"""The benchmark's table, from bench/run.py's figures: `python bench/report.py results.json`."""

import json
import re
import sys
from pathlib import Path

TARGET_PAGE = "list, 3 filters"


def rps(figures):
    if not figures:
        return "n/a"
    value = figures["rps"]
    text = f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    return text + (" ⚠" if figures.get("errors") or figures.get("socket_errors") else "")


def latency(figures):
    if not figures or figures.get("p50") is None:
        return "n/a"
    return f"{figures['p50']:g} / {figures['p99']:g}"


def ratio(a, b):
    if not a or not b or not b["rps"]:
        return "n/a"
    return f"{a['rps'] / b['rps']:.2f}×"


def change(small, large):
    """How a figure moved from the smaller data set to the larger one."""
    if not small or not large or not small["rps"]:
        return "n/a"
    return f"{large['rps'] / small['rps']:.2f}×"


def report(results):
    sizes = results["sizes"]
    machine = results["machine"]
    settings = results["settings"]
    lines = [
        f"# Claimwatch benchmark, {results['date']}",
        "",
        f"Machine: {machine['cpus']} cores, {machine['memory_gb']} GB; Python "
        f"{machine['python']}; {machine['postgresql']}; {machine['gunicorn']} with "
        f"{settings['workers']} sync workers (`--preload`); {machine['datasette']}; "
        f"{machine['wrk']} with {settings['connections']} connections for "
        f"{settings['duration_s']} s per URL. Run time {results.get('minutes', '?')} min.",
        "",
        "Cold: PAGE_CACHE_SECONDS=0 (every request builds its page). Hot: the page cache on, in "
        "Redis. Datasette serves an SQLite export of the same published claims (`-i`, every "
        "facet column indexed, FTS5) with facets on the same columns; the limit is a view that "
        "does nothing, under the same settings, middleware and gunicorn command line. wrk "
        "sends `Accept-Encoding: gzip`, as browsers do (Datasette and the trivial view answer "
        "uncompressed). Requests per second, then p50 / p99 latency in ms. Each cold page "
        "is measured right before Datasette's equivalent, each hot page right after a run of "
        "the limit, and its ratio is to that run: the machine is shared, so the load average "
        "("
        + ", ".join(
            f"{s['claims']:,}: {s.get('load_before', 0):.1f} → {s.get('load_after', 0):.1f}"
            for s in sizes
        )
        + ") moved the absolute figures more than the ratios.",
        "",
        "| page | claims | cold req/s | cold p50 / p99 | hot req/s | hot p50 / p99 "
        "| Datasette req/s | Datasette p50 / p99 | cold ÷ Datasette | hot ÷ limit |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    names = list(sizes[0]["pages"])
    for name in names:
        for size in sizes:
            page = size["pages"][name]
            cold, hot, peer = page.get("cold"), page.get("hot"), page.get("datasette")
            lines.append(
                f"| {name} | {size['claims']:,} | {rps(cold)} | {latency(cold)} | {rps(hot)} "
                f"| {latency(hot)} | {rps(peer)} | {latency(peer)} | {ratio(cold, peer)} "
                f"| {ratio(hot, page.get('limit', size['limit']))} |"
            )
        if len(sizes) > 1:
            small, large = sizes[0]["pages"][name], sizes[-1]["pages"][name]
            lines.append(
                f"| ↳ change | {sizes[0]['claims']:,} → {sizes[-1]['claims']:,} "
                f"| {change(small.get('cold'), large.get('cold'))} | "
                f"| {change(small.get('hot'), large.get('hot'))} | "
                f"| {change(small.get('datasette'), large.get('datasette'))} | | | |"
            )
    for size in sizes:
        lines.append(
            f"| Datasette, 3 filters, only 3 facets | {size['claims']:,} | | | | "
            f"| {rps(size['datasette_3_facets'])} | {latency(size['datasette_3_facets'])} | | |"
        )
    for size in sizes:
        limit = size["limit"]
        lines.append(
            f"| limit: trivial view (median of its runs) | {size['claims']:,} | {rps(limit)} "
            f"| {latency(limit)} | | | | | | |"
        )

    lines += [
        "",
        "⚠ marks a run with non-2xx answers or socket errors (see the JSON).",
        "",
        "| CSV export of every claim | claims | time | rows | size | worker peak RSS |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for size in sizes:
        csv = size["csv"]
        if csv.get("status") != 200:
            lines.append(f"| /claims.csv | {size['claims']:,} | n/a ({csv.get('status')}) | | | |")
            continue
        lines.append(
            f"| /claims.csv | {size['claims']:,} | {csv['seconds']} s | {csv['rows']:,} "
            f"| {csv['mb']} MB | {csv['peak_rss_mb']} MB (idle {csv['rss_before_mb']} MB) |"
        )
    lines += [
        "",
        "| data | claims | generate_claims (PostgreSQL) |",
        "|---|--:|--:|",
    ]
    for size in sizes:
        lines.append(f"| synthetic, seed 1 | {size['claims']:,} | {size['generate_seconds']} s |")
    if "load" in results:
        lines += ["", *load_report(results["load"], sizes[-1]["claims"])]
    lines += ["", *targets(sizes[-1], results.get("load")), ""]
    return "\n".join(lines)


def load_errors(load):
    """Every way a request of the load run failed: non-2xx answers, socket errors (timeouts
    included), errors the server logged, and a full export that did not complete."""
    export = load["full_export"]
    return {
        "non-2xx answers": load["errors"],
        # wrk: "connect 0, read 0, write 0, timeout 3"
        "socket errors": sum(int(n) for n in re.findall(r"\d+", load["socket_errors"])),
        "errors logged by gunicorn": load["server_errors_logged"],
        "full export not a 200": 0 if export.get("status") == 200 else 1,
    }


def load_report(load, claims):
    export = load["full_export"]
    errors = load_errors(load)
    return [
        f"## Load run, {claims:,} claims",
        "",
        f"{load['duration_s']} s at {load['connections']} connections (wrk, 2 threads), each "
        f"request to one of {load['urls']} URLs at random: pages 1–20 of three list views, "
        "15 searches and their second pages, four filtered CSV/JSON exports. The page cache is "
        "on, as in production; one full CSV export runs alongside from the start.",
        "",
        "| requests | req/s | p50 / p99 ms | errors | full export | worker peak RSS |",
        "|--:|--:|--:|---|---|--:|",
        f"| {load['requests']:,} | {rps(load)} | {latency(load)} "
        f"| {', '.join(f'{n} {kind}' for kind, n in errors.items() if n) or 'none'} "
        f"| {export.get('status')}, {export.get('rows', 0):,} rows in {export.get('seconds')} s "
        f"| {', '.join(f'{mb} MB' for mb in load['worker_peak_rss_mb'])} |",
    ]


def targets(size, load=None):
    """The issues' targets, checked on the largest data set."""
    page = size["pages"][TARGET_PAGE]
    cold, hot, peer = page["cold"], page["hot"], page.get("datasette")
    csv = size["csv"]

    def mark(ok):
        return "met" if ok else "**missed**"

    rows = [
        f"## Targets at {size['claims']:,} claims",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    if peer:
        times = cold["rps"] / peer["rps"]
        rows.append(
            f"| filtered list, cold: ≥ 2× Datasette | {times:.1f}× ({cold['rps']:.1f} vs "
            f"{peer['rps']:.1f} req/s) | {mark(times >= 2)} |"
        )
    rows.append(
        f"| filtered list, cold: p50 < 50 ms | {cold['p50']:g} ms | {mark(cold['p50'] < 50)} |"
    )
    # Judged against the faster of the adjacent limit run and the median one: a limit run
    # slowed by load from outside would otherwise flatter the page.
    limit = max(page.get("limit", size["limit"]), size["limit"], key=lambda run: run["rps"])
    share = hot["rps"] / limit["rps"]
    rows.append(
        f"| filtered list, hot: ≥ 50 % of the limit | {share:.0%} ({hot['rps']:,.0f} vs "
        f"{limit['rps']:,.0f} req/s, the faster of the adjacent and the median limit run) "
        f"| {mark(share >= 0.5)} |"
    )
    if csv.get("status") == 200:
        rows.append(f"| CSV export: < 10 s | {csv['seconds']} s | {mark(csv['seconds'] < 10)} |")
        rows.append(
            f"| CSV export: worker peak < 150 MB | {csv['peak_rss_mb']} MB "
            f"| {mark(csv['peak_rss_mb'] < 150)} |"
        )
    if load:
        errors = sum(load_errors(load).values())
        rows.append(f"| load run: zero errors | {errors} | {mark(errors == 0)} |")
        peak = max(load["worker_peak_rss_mb"])
        rows.append(
            f"| load run: worker peak < {load['memory_bound_mb']} MB | {peak} MB "
            f"| {mark(peak < load['memory_bound_mb'])} |"
        )
    rows.append(
        "| ≤ 12 queries per list page, ≤ 6 per claim page | asserted at 2,000 claims by "
        "tests/test_scale.py | see the test run |"
    )
    return rows


if __name__ == "__main__":
    print(report(json.loads(Path(sys.argv[1]).read_text())))
