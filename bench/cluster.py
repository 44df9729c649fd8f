"""`make cluster`: the multi-machine setup of docs/deploy.md, run on one machine's real parts.

On 127.0.0.1, all started by this script in a temporary directory and all stopped on exit:
- a PostgreSQL primary, a cluster of its own (initdb) on --primary-port;
- a streaming replica made from it with `pg_basebackup -R`, on --primary-port + 1;
- two gunicorn instances under production settings (DEBUG off), DATABASE_URL the primary,
  DATABASE_REPLICA_URLS the replica, REDIS_URL the machine's Redis (a database of its own);
- nginx as the load balancer in front of both.

Data: `generate_claims --count N`. Then it measures, through nginx:
1. publishes: a publisher's edit, and the time until the public page shows it, with the replica
   in step and with its replay held back (recovery_min_apply_delay), checking that no stale page
   is served after the fresh one (lag must not pin old content under the new data version);
2. the load mix of `make bench` (bench/run.py): throughput, p50, p99, errors, with replication
   lag sampled and the transactions each database served (pg_stat_database);
3. losing the replica under load: it is stopped; errors, and the reads the primary takes over.

Figures go to bench/results/<date>-cluster.md (and .json).

    python bench/cluster.py [--claims 10000] [--load-duration 60] [--load-connections 32]
"""

import argparse
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import run as bench  # noqa: E402  (the load mix, wrk, gunicorn under test)

DATABASE = "claimwatch"
REDIS_DB = 11  # make bench uses 15, make faults 13
NGINX_CONFIG = """
worker_processes 1;
error_log {dir}/nginx-error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/nginx-body;
    proxy_temp_path {dir}/nginx-proxy;
    fastcgi_temp_path {dir}/nginx-fastcgi;
    uwsgi_temp_path {dir}/nginx-uwsgi;
    scgi_temp_path {dir}/nginx-scgi;
    upstream claimwatch {{
        {servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://claimwatch;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_max_temp_file_size 0;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


class Cluster:
    """Everything started, stopped in reverse order whatever happens (atexit and signals)."""

    def __init__(self, args):
        self.args = args
        self.dir = Path(tempfile.mkdtemp(prefix="claimwatch-cluster-"))
        self.servers, self.postgres = [], []
        self.bin = Path(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        )
        atexit.register(self.stop)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, lambda *_: sys.exit(1))

    def as_postgres(self, command):
        # PostgreSQL refuses to run as root.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(prefix + command, check=True, capture_output=True, text=True)

    def start_postgres(self, name, port):
        data = self.dir / name
        options = f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self.as_postgres(
            [str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.dir / f"{name}.log"),
             "-o", options, "-w", "start"]
        )  # fmt: skip
        self.postgres.append(data)

    def stop_postgres(self, name):
        data = self.dir / name
        self.as_postgres([str(self.bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        self.postgres.remove(data)

    def start_databases(self):
        primary, replica = self.args.primary_port, self.args.primary_port + 1
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.as_postgres(
            [str(self.bin / "initdb"), "-D", str(self.dir / "primary"), "-U", "postgres",
             "--auth=trust", "--no-sync"]
        )  # fmt: skip
        self.start_postgres("primary", primary)
        self.as_postgres(
            [str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary),
             "-U", "postgres", "-D", str(self.dir / "replica"), "-R", "-X", "stream",
             "-c", "fast"]
        )  # fmt: skip
        self.start_postgres("replica", replica)
        query(self.url(primary, "postgres"), f'CREATE DATABASE "{DATABASE}"')

    def url(self, port, name=DATABASE):
        return f"postgres://postgres@127.0.0.1:{port}/{name}"

    def start_site(self):
        args = self.args
        site = argparse.Namespace(
            database_url=self.url(args.primary_port),
            redis_url=f"{args.redis}/{REDIS_DB}",
            workers=args.workers,
        )
        for port in self.app_ports():
            self.servers.append(
                bench.gunicorn(
                    site,
                    port,
                    f"cluster-{port}",
                    DATABASE_REPLICA_URLS=self.url(args.primary_port + 1),
                    PAGE_CACHE_SECONDS=300,
                    TRUSTED_PROXY_COUNT=1,
                )
            )
        config = self.dir / "nginx.conf"
        servers = " ".join(f"server 127.0.0.1:{port};" for port in self.app_ports())
        config.write_text(NGINX_CONFIG.format(dir=self.dir, servers=servers, port=args.port))
        self.servers.append(
            bench.Server(
                ["nginx", "-c", str(config), "-p", str(self.dir), "-g", "daemon off;"],
                args.port,
                os.environ,
                "cluster-nginx",
            )
        )

    def app_ports(self):
        return [self.args.port + 1, self.args.port + 2]

    def stop(self):
        for server in reversed(self.servers):
            server.stop()
        self.servers = []
        for data in reversed(self.postgres):
            self.as_postgres([str(self.bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        self.postgres = []
        shutil.rmtree(self.dir, ignore_errors=True)


def query(url, sql, *params):
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as db:
        cursor = db.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else None


def transactions(url):
    """Transactions the site's database has run on this server: each query of the site's, in
    autocommit. Asked through another database, so that asking does not count."""
    time.sleep(1.5)  # PostgreSQL flushes its statistics about once a second
    [(count,)] = query(
        url.rsplit("/", 1)[0] + "/postgres",
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
        DATABASE,
    )
    return count


def fetch(port, path):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Accept-Encoding": "identity"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


# --- Publishing -----------------------------------------------------------------------------


def publisher_session(cluster):
    """This process as one more app server (no replica: edits go to the primary anyway)."""
    os.environ.update(
        bench.django_env(
            argparse.Namespace(
                database_url=cluster.url(cluster.args.primary_port),
                redis_url=f"{cluster.args.redis}/{REDIS_DB}",
            ),
            DJANGO_SETTINGS_MODULE="config.settings",
        )
    )
    import django

    django.setup()
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("cluster-publisher", is_staff=True)
    user.groups.add(Group.objects.get(name="Publishers"))
    return user


def publish_once(cluster, user, claim, marker):
    """Save a new title as the publisher, then read the public page through nginx (both app
    servers in turn) until two seconds after the later of the replica replaying the commit and
    the first answer showing it. Seconds from the commit to the first fresh answer, to the last
    stale one and to the replay; `late_stale`: stale answers to requests sent more than
    VERSION_CHECK_SECONDS after the commit, when no process may trust the old version any
    more: a page pinned under the new version with old content would show there."""
    from django.db import connection

    from claims.data_version import VERSION_CHECK_SECONDS

    for _ in range(4):  # both app servers have the page and trust the version: the worst case
        fetch(cluster.args.port, claim.get_absolute_url())
    claim.title = marker
    claim._history_user = user
    claim.save()  # commits, bumping the data version
    committed = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        [lsn] = cursor.fetchone()
    run = {"visible_s": None, "last_stale_s": 0.0, "replayed_s": None, "late_stale": 0}
    replica = cluster.url(cluster.args.primary_port + 1, "postgres")
    until = 30.0
    while (sent := time.monotonic() - committed) < until:
        if run["replayed_s"] is None and query(replica, REPLAYED, lsn)[0][0]:
            run["replayed_s"] = round(sent, 3)
        fresh = marker in fetch(cluster.args.port, claim.get_absolute_url())[1]
        answered = round(time.monotonic() - committed, 3)  # the answer's latest moment
        if fresh and run["visible_s"] is None:
            run["visible_s"] = answered
        if not fresh:
            run["last_stale_s"] = answered
            run["late_stale"] += sent > VERSION_CHECK_SECONDS
        if run["visible_s"] is not None and run["replayed_s"] is not None:
            until = min(until, max(run["visible_s"], run["replayed_s"]) + 2.0)
        time.sleep(0.02)
    return run


REPLAYED = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"


def hold_back_replay(cluster, delay_ms):
    """The replica applies each commit `delay_ms` after the primary made it: replication lag,
    on demand (recovery_min_apply_delay; the last setting in the file wins)."""
    data = cluster.dir / "replica"
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"\nrecovery_min_apply_delay = '{delay_ms}ms'\n")
    cluster.as_postgres([str(cluster.bin / "pg_ctl"), "-D", str(data), "reload"])
    time.sleep(1)


def publishes(cluster, user, count, delay_ms, during=""):
    """`count` publishes with the replica's replay held back by `delay_ms`."""
    from claims.models import Claim

    if delay_ms is not None:
        hold_back_replay(cluster, delay_ms)
    claim = Claim.objects.published().order_by("pk").first()
    runs = []
    for number in range(count):
        marker = f"Cluster check {during or delay_ms} {number}"
        runs.append(publish_once(cluster, user, claim, marker))
        time.sleep(1.2)  # past VERSION_CHECK_SECONDS: each publish starts from settled caches

    def spread(name):
        values = [run[name] for run in runs if run[name] is not None]
        return {"median": median(values), "max": max(values)} if values else None

    return {
        "replay_delay_ms": delay_ms or 0,
        "during": during,
        "publishes": count,
        "visible_s": spread("visible_s"),
        "last_stale_s": spread("last_stale_s"),
        "replayed_s": spread("replayed_s"),
        "never_visible": sum(run["visible_s"] is None for run in runs),
        "late_stale": sum(run["late_stale"] for run in runs),
    }


# --- Load -----------------------------------------------------------------------------------


def sample_lag(primary_url, stop, samples):
    """pg_stat_replication's replay lag, every half second, until `stop` is set."""
    while not stop.wait(0.5):
        rows = query(
            primary_url,
            "SELECT COALESCE(EXTRACT(EPOCH FROM replay_lag), 0), "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication",
        )
        if rows:
            samples.append((float(rows[0][0]), int(rows[0][1])))


def load(cluster, duration, then=None):
    """The load mix of `make bench` through nginx for `duration` seconds; `then()` runs in a
    thread a third of the way in. wrk's figures, lag samples and transactions per database."""
    args = cluster.args
    primary, replica = cluster.url(args.primary_port), cluster.url(args.primary_port + 1)
    script, paths = cluster.dir / "load.lua", cluster.dir / "load-paths.txt"
    script.write_text(bench.LOAD_SCRIPT)
    paths.write_text("\n".join(bench.load_paths()) + "\n")
    before = {"primary": transactions(primary), "replica": transactions(replica)}
    stop, samples = threading.Event(), []
    sampler = threading.Thread(
        target=sample_lag, args=(cluster.url(args.primary_port, "postgres"), stop, samples)
    )
    sampler.start()
    meanwhile = threading.Timer(duration / 3, then) if then is not None else None
    if meanwhile is not None:
        meanwhile.start()
    output = subprocess.run(
        ["wrk", "--threads", "2", "--connections", str(args.load_connections),
         "--duration", f"{duration}s", "--timeout", "60s", "--latency",
         "--script", str(script), "--header", "Accept-Encoding: gzip",
         f"http://127.0.0.1:{args.port}/"]
        ,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_LOAD_PATHS": str(paths)},
    ).stdout  # fmt: skip
    stop.set()
    sampler.join()
    if meanwhile is not None:
        meanwhile.join()
    figures = bench.parse_wrk(output)
    figures["transactions"] = {"primary": transactions(primary) - before["primary"]}
    if cluster.dir / "replica" in cluster.postgres:
        figures["transactions"]["replica"] = transactions(replica) - before["replica"]
    lags = [lag for lag, _ in samples]
    figures["replay_lag_max_ms"] = round(max(lags) * 1000, 1) if lags else None
    figures["replay_lag_median_ms"] = round(median(lags) * 1000, 1) if lags else None
    figures["replay_bytes_behind_max"] = max((behind for _, behind in samples), default=None)
    return figures


def ensure_tools():
    missing = [tool for tool in ("nginx", "wrk") if not shutil.which(tool)]
    if missing:
        print(f"Installing {', '.join(missing)} with apt-get…", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000, help="generate_claims --count")
    parser.add_argument("--workers", type=int, default=1, help="Per gunicorn instance.")
    parser.add_argument("--load-duration", type=int, default=60, help="Seconds per run.")
    parser.add_argument("--load-connections", type=int, default=32)
    parser.add_argument("--publishes", type=int, default=10, help="Per replay delay.")
    parser.add_argument("--replay-delay-ms", type=int, default=2000)
    parser.add_argument("--primary-port", type=int, default=5441)
    parser.add_argument("--port", type=int, default=8100, help="nginx; the apps take +1, +2.")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--output", help="Default: bench/results/<date>-cluster.md")
    args = parser.parse_args()
    ensure_tools()
    bench.DATA.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cluster = Cluster(args)
    import redis

    redis.Redis.from_url(f"{args.redis}/{REDIS_DB}").flushdb()
    atexit.register(lambda: redis.Redis.from_url(f"{args.redis}/{REDIS_DB}").flushdb())

    print("== PostgreSQL primary and streaming replica", flush=True)
    cluster.start_databases()
    # bench.manage lifts the statement timeout; no Redis: the data version is in the database.
    site = argparse.Namespace(database_url=cluster.url(args.primary_port), redis_url="")
    bench.manage(site, "migrate", "--noinput", "--verbosity", "0")
    bench.manage(site, "loaddata", "fixtures/seed.json", "--verbosity", "0")
    print(f"== generate_claims --count {args.claims}", flush=True)
    generating = time.monotonic()
    bench.manage(site, "generate_claims", "--count", str(args.claims), "--seed", "1")
    generation_s = round(time.monotonic() - generating, 1)
    bench.manage(site, "collectstatic", "--noinput", "--verbosity", "0")
    print("== two gunicorn instances behind nginx", flush=True)
    cluster.start_site()
    user = publisher_session(cluster)

    results = {"date": date.today().isoformat(), "claims": args.claims}
    results["machine"] = bench.machine()
    results["load_average_before"] = os.getloadavg()[0]
    results["generation_s"] = generation_s
    print("== publishes", flush=True)
    results["publishes"] = [
        publishes(cluster, user, args.publishes, 0),
        publishes(cluster, user, args.publishes, args.replay_delay_ms),
    ]
    hold_back_replay(cluster, 0)
    print(f"== load mix through nginx, {args.load_duration} s", flush=True)
    results["load"] = load(cluster, args.load_duration)
    print("== load mix with publishes", flush=True)
    during_load = []
    results["load_with_publishes"] = load(
        cluster,
        args.load_duration,
        then=lambda: during_load.append(
            publishes(cluster, user, max(args.publishes // 2, 1), None, during="load")
        ),
    )
    results["publishes"].append(during_load[0])
    print("== load mix, losing the replica a third of the way in", flush=True)
    results["replica_lost"] = load(
        cluster, args.load_duration, then=lambda: cluster.stop_postgres("replica")
    )
    results["after_replica_lost"] = [
        {"path": path, "status": fetch(args.port, path)[0]}
        for path in ["/", "/claims/", "/claims/?q=acne", "/api/claims/"]
    ]
    results["settings"] = {
        "gunicorn_instances": 2,
        "workers_each": args.workers,
        "load_connections": args.load_connections,
        "load_duration_s": args.load_duration,
    }
    results["load_average_after"] = os.getloadavg()[0]
    results["minutes"] = round((time.monotonic() - started) / 60, 1)

    from bench.cluster_report import report

    text = report(results)
    print("\n" + text)
    output = Path(args.output) if args.output else bench.RESULTS / f"{results['date']}-cluster.md"
    output.write_text(text)
    output.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"Written to {output} and {output.with_suffix('.json').name}")


if __name__ == "__main__":
    main()
