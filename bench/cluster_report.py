"""The cluster run's results as Markdown, from bench/cluster.py's figures:
`python bench/cluster_report.py bench/results/<date>-cluster.json`."""

import json
import sys
from pathlib import Path


def spread(figures, name):
    values = figures[name]
    return f"{values['median']:.3f} / {values['max']:.3f}" if values else "n/a"


def report(results):
    settings, machine = results["settings"], results["machine"]
    lines = [
        f"# Cluster run, {results['date']}: {results['claims']:,} claims",
        "",
        "`make cluster` (bench/cluster.py): a PostgreSQL primary and a streaming replica made "
        "with `pg_basebackup -R`, two gunicorn instances "
        f"({settings['workers_each']} sync worker each, production settings, "
        "`DATABASE_REPLICA_URLS` the replica), the machine's Redis, nginx in front, all on "
        f"127.0.0.1 of one machine ({machine['cpus']} cores, {machine['postgresql']}, "
        f"load average {results['load_average_before']:.1f} at the start and "
        f"{results['load_average_after']:.1f} at the end: shared with other work). "
        f"generate_claims took {results['generation_s']} s; the whole run "
        f"{results['minutes']} min.",
        "",
        "## A publisher's change on the public page",
        "",
        "A publisher saves a claim's new title; the claim page, requested through nginx "
        "just before (so both app servers hold it and trust the data version), is read again "
        "every 20 ms until two seconds after the later of the replica replaying the commit "
        "(`pg_last_wal_replay_lsn()`) and the first answer showing the change. Seconds from "
        "the commit, median / max: the first answer showing it, the last answer that did not "
        "(0: none) and the replay. Late stale answers: requests sent more than "
        "VERSION_CHECK_SECONDS (1 s) after the commit that got the old page, when no process "
        "trusts the old data version any more; a page built from the lagging replica and "
        "stored under the new version would show there, for as long as the page is cached.",
        "",
        "| when | replica's replay held back | publishes | first fresh | last stale "
        "| replica replayed | late stale answers | never fresh |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for run in results["publishes"]:
        when = "under the load mix" if run["during"] == "load" else "idle"
        lines.append(
            f"| {when} | {run['replay_delay_ms']} ms | {run['publishes']} | "
            f"{spread(run, 'visible_s')} | {spread(run, 'last_stale_s')} | "
            f"{spread(run, 'replayed_s')} | {run['late_stale']} | {run['never_visible']} |"
        )
    lines += [
        "",
        "## The load mix through nginx",
        "",
        f"`make bench`'s load mix (list pages, searches, filtered exports) with wrk, "
        f"{settings['load_connections']} connections for {settings['load_duration_s']} s a "
        "run, caches on. Behind: how far the replica's replay trailed the primary's WAL, the "
        "most seen in samples every 0.5 s (pg_stat_replication; the load only reads, the "
        "publishes above write; their commit-to-replay times are the lag). Transactions: "
        "`xact_commit + xact_rollback` of the site's database on each server over the run; "
        "each of the site's queries is one.",
        "",
        "| run | requests | req/s | p50 ms | p99 ms | non-2xx | socket errors "
        "| behind, bytes | transactions, primary / replica |",
        "|---|--:|--:|--:|--:|--:|---|--:|--:|",
    ]
    runs = [
        ("replica up", results["load"]),
        ("replica up, publishes meanwhile", results["load_with_publishes"]),
        ("replica stopped a third of the way in", results["replica_lost"]),
    ]
    for name, figures in runs:
        done = figures["transactions"]
        replica = f"{done['replica']:,}" if "replica" in done else "stopped"
        lines.append(
            f"| {name} | {figures['requests']:,} | {figures['rps']:,.1f} | {figures['p50']} | "
            f"{figures['p99']} | {figures['errors']} | {figures['socket_errors'] or 'none'} | "
            f"{figures['replay_bytes_behind_max']:,} | {done['primary']:,} / {replica} |"
        )
    done = results["load"]["transactions"]
    share = done["replica"] / max(done["primary"] + done["replica"], 1)
    after = ", ".join(f"`{row['path']}` {row['status']}" for row in results["after_replica_lost"])
    lines += [
        "",
        f"With the replica up it ran {share:.0%} of the site's transactions; the primary's "
        "are the data version (read at most once a second per process) and the pages built "
        "while the replica had not replayed it. A non-2xx answer while the replica is stopped "
        "is a request whose query was running on it at that moment (a 503); the next ones "
        f"read from the primary. After the replica stopped, pages answered: {after}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(json.loads(Path(sys.argv[1]).read_text())))
