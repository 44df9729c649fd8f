"""`make bench`: Claimwatch at 10,000 and 100,000 claims, against Datasette and a trivial view.

For each size it builds its own PostgreSQL database (generate_claims), serves the site with
gunicorn under production settings (DEBUG off, one sync worker per core), loads each page with
wrk at a fixed number of connections, cold (PAGE_CACHE_SECONDS=0) and hot (the page cache on, in
Redis), and measures in the same run, on the same machine and data:

- the peer: Datasette serving an SQLite export of the same published claims, with facets on the
  same columns and `?column=value` filters: the closest URL to each of ours;
- the limit: a view that does nothing, under the same settings and gunicorn command line;
- the CSV export of every claim: wall time and the worker's peak memory (VmHWM);
- at the largest size, the load run: 60 s at 32 connections spread over list pages, searches and
  filtered exports (caches on, as in production), with one full export running alongside;
  every answer must be a 200 and no worker may grow past the memory bound.

It prints one table and writes it to bench/results/<date>-<n>.md (raw figures beside it,
in .json).

    python bench/run.py [--sizes 10000,100000] [--duration 10] [--connections 4]
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
SITE_PORT, LIMIT_PORT, DATASETTE_PORT, EXPORT_PORT, LOAD_PORT = 8101, 8102, 8103, 8104, 8105
WORKER_MEMORY_BOUND_MB = 150

FILTERS = "route=intradermal-injection&origin=human&fda=not-approved"
DATASETTE_FILTERS = "route=intradermal-injection&origin=human&fda_status=not-approved"
DATASETTE_TABLE = "/claims/claims"


def datasette_facets(export_output):
    """Datasette's facet parameters for the columns bench/export_sqlite.py wrote: the list's
    facets, as that script's two output lines name them (single-valued, then arrays)."""
    single, arrays = (export_output.splitlines() + ["", ""])[:2]
    return "&".join(
        [
            *(f"_facet={column}" for column in single.split()),
            *(f"_facet_array={column}" for column in arrays.split()),
        ]
    )


def pages(claim_slug, claim_id, facet_parameters):
    """(name, our URL, Datasette's closest URL or None). Ours are canonical: no redirect."""
    facets = f"{facet_parameters}&_size=25"
    return [
        ("home", "/", None),
        ("list", "/claims/", f"{DATASETTE_TABLE}?{facets}"),
        (
            "list, 3 filters",
            f"/claims/?{FILTERS}",
            f"{DATASETTE_TABLE}?{DATASETTE_FILTERS}&{facets}",
        ),
        ("search", "/claims/?q=acne", f"{DATASETTE_TABLE}?_search=acne&{facets}"),
        ("claim page", f"/claims/{claim_slug}/", f"{DATASETTE_TABLE}/{claim_id}"),
        (
            "API, 3 filters",
            f"/api/claims/?{FILTERS}",
            f"{DATASETTE_TABLE}.json?{DATASETTE_FILTERS}&{facets}",
        ),
    ]


# --- Processes ----------------------------------------------------------------------------------


def django_env(args, **extra):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CONN_MAX_AGE": "600",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback, as behind a TLS proxy
        "LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT),
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


def manage(args, *command, **env):
    # Building 100k claims runs statements longer than the site's statement timeout.
    env.setdefault("DATABASE_STATEMENT_TIMEOUT", "0")
    subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=django_env(args, **env), check=True
    )


class Server:
    """A server process in its own process group, stopped by that group's id."""

    def __init__(self, command, port, env, name):
        self.port, self.name = port, name
        self.log = open(DATA / f"{name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited: see {self.log.name}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{name} did not start on port {port}")

    def workers(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def gunicorn(args, port, name, workers=None, **env):
    command = [
        str(BIN / "gunicorn"),
        "--config",
        "gunicorn.conf.py",  # the request limits and headers production has
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers or args.workers),
        "--worker-class",
        "sync",
        "--preload",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    return Server(command, port, django_env(args, **env), name)


def datasette(db_path):
    command = [
        str(BIN / "datasette"),
        "serve",
        "-i",  # immutable: Datasette caches counts and may skip locking for a read-only file
        str(db_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(DATASETTE_PORT),
        # Facets must finish, as ours do, or Datasette would drop them from the page; and we
        # suggest no facets either.
        "--setting",
        "facet_time_limit_ms",
        "10000",
        "--setting",
        "sql_time_limit_ms",
        "20000",
        "--setting",
        "suggest_facets",
        "off",
    ]
    return Server(command, DATASETTE_PORT, dict(os.environ), "datasette")


# --- Measuring ----------------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def fetch(port, url):
    """Status and body of one GET; raises on a redirect, which would measure the wrong page."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{url}")
    with urllib.request.urlopen(request, timeout=120) as response:
        if response.url != request.full_url:
            raise RuntimeError(f"{url} redirected to {response.url}")
        return response.status, response.read()


def wrk(args, port, url):
    """requests/s, p50 and p99 in ms, and errors, from `wrk --latency`."""
    for _ in range(3):  # warm: fills the page cache (hot), PostgreSQL's buffers, Datasette's
        fetch(port, url)
    output = subprocess.run(
        [
            "wrk",
            "--threads",
            str(min(args.connections, 2)),
            "--connections",
            str(args.connections),
            "--duration",
            f"{args.duration}s",
            "--timeout",
            "60s",
            "--latency",
            # As every browser does. Datasette and the trivial view answer uncompressed.
            "--header",
            "Accept-Encoding: gzip",
            f"http://127.0.0.1:{port}{url}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(output)


def parse_wrk(output):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))

    def percentile(p):
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return round(float(match.group(1)) * UNITS[match.group(2)], 1) if match else None

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": rps,
        "p50": percentile(50),
        "p99": percentile(99),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }


def settle(figures):
    """Let requests still running after wrk stopped finish before the next measurement."""
    time.sleep(min(10.0, max(1.0, (figures["p99"] or 0) / 1000)))


def measure_csv(args):
    """Wall time of the full CSV export, and the peak resident memory of the one worker."""
    server = gunicorn(args, EXPORT_PORT, "export", workers=1, PAGE_CACHE_SECONDS=0)
    try:
        (worker,) = server.workers()
        fetch(EXPORT_PORT, "/")
        before = vm_hwm(worker)
        started = time.monotonic()
        status, body = fetch(EXPORT_PORT, "/claims.csv")
        seconds = time.monotonic() - started
        return {
            "status": status,
            "seconds": round(seconds, 2),
            "rows": body.count(b"\n") - 1,
            "mb": round(len(body) / 1e6, 1),
            "peak_rss_mb": round(vm_hwm(worker) / 1024, 1),
            "rss_before_mb": round(before / 1024, 1),
        }
    except urllib.error.HTTPError as error:
        return {"status": error.code}
    finally:
        server.stop()


def vm_hwm(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


# The load run's mix: a wrk script sends each request to one of these paths, at random.
LOAD_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_LOAD_PATHS")) do paths[#paths + 1] = line end
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) math.randomseed(os.time() * 100 + id) end
function request() return wrk.format("GET", paths[math.random(#paths)]) end
"""
SEARCH_TERMS = [
    "acne",
    "hair",
    "scars",
    "wrinkles",
    "placenta",
    "serum",
    "laser",
    "melasma",
    "rosacea",
    "stem+cell",
    "microneedling",
    "plant",
    "bovine",
    "injection",
    "pigment",
]


def load_paths():
    """List pages (pages 1-20 of three views), searches and filtered exports, in proportions
    where browsing dominates: each run of the list is a different URL for the page cache."""
    views = ["", f"{FILTERS}&", "origin=human&sort=strongest-evidence&"]
    paths = [f"/claims/?{view}page={page}" for view in views for page in range(1, 21)]
    paths += [f"/claims/?q={term}" for term in SEARCH_TERMS]
    paths += [f"/claims/?q={term}&page=2" for term in SEARCH_TERMS]
    paths += [
        f"/claims.csv?{FILTERS}",
        f"/claims.json?{FILTERS}",
        "/claims.csv?origin=plant&fda=not-approved",
        "/claims.csv?q=acne",
    ]
    return paths


def load_run(args):
    """60 s at 32 connections over `load_paths`, with one full CSV export alongside: requests,
    latency, every non-2xx answer and socket error, and each worker's peak memory."""
    import threading

    script = DATA / "load.lua"
    script.write_text(LOAD_SCRIPT)
    paths_file = DATA / "load-paths.txt"
    paths_file.write_text("\n".join(load_paths()) + "\n")
    flush_redis(args)
    server = gunicorn(args, LOAD_PORT, "load", PAGE_CACHE_SECONDS=300)
    full_export = {}

    def export_everything():
        started = time.monotonic()
        try:
            status, body = fetch(LOAD_PORT, "/claims.csv")
            full_export.update(status=status, rows=body.count(b"\n") - 1)
        except urllib.error.HTTPError as error:
            full_export.update(status=error.code)
        full_export["seconds"] = round(time.monotonic() - started, 1)

    try:
        workers = server.workers()
        exporter = threading.Thread(target=export_everything)
        exporter.start()
        output = subprocess.run(
            [
                "wrk",
                "--threads",
                "2",
                "--connections",
                str(args.load_connections),
                "--duration",
                f"{args.load_duration}s",
                "--timeout",
                "60s",
                "--latency",
                "--script",
                str(script),
                "--header",
                "Accept-Encoding: gzip",
                f"http://127.0.0.1:{LOAD_PORT}/",
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "BENCH_LOAD_PATHS": str(paths_file)},
        ).stdout
        exporter.join()
        figures = parse_wrk(output)
        figures["worker_peak_rss_mb"] = [round(vm_hwm(pid) / 1024, 1) for pid in workers]
        figures["workers_replaced"] = sorted(server.workers()) != sorted(workers)
        # Read before stopping the server, whose workers log their SIGTERM as an error.
        log = Path(server.log.name).read_text()
        figures["server_errors_logged"] = len(re.findall(r"\[(ERROR|CRITICAL)\]", log))
    finally:
        server.stop()
    figures.update(
        connections=args.load_connections,
        duration_s=args.load_duration,
        urls=len(load_paths()),
        full_export=full_export,
        memory_bound_mb=WORKER_MEMORY_BOUND_MB,
    )
    return figures


# --- One size -------------------------------------------------------------------------------------


def sample_claim(args):
    import psycopg

    with psycopg.connect(args.database_url.replace("postgres://", "postgresql://")) as db:
        return db.execute(
            "SELECT slug, id FROM claims_claim WHERE state = 'published' AND slug LIKE 'syn-%%' "
            "ORDER BY published_at DESC LIMIT 1"
        ).fetchone()


def has_route(args, url):
    try:
        fetch(SITE_PORT, url)
        return True
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise


def run_size(args, size):
    print(f"\n== {size:,} claims", flush=True)
    started = time.monotonic()
    manage(args, "generate_claims", "--count", str(size), "--seed", "1", "--replace")
    generate_seconds = time.monotonic() - started
    db_path = DATA / str(size) / "claims.db"  # Datasette names the database "claims"
    export = subprocess.run(
        [sys.executable, "bench/export_sqlite.py", str(db_path)],
        cwd=ROOT,
        env=django_env(args),
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    facets = datasette_facets(export.stdout)
    slug, claim_id = sample_claim(args)
    result = {"claims": size, "generate_seconds": round(generate_seconds, 1), "pages": {}}
    result["load_before"] = os.getloadavg()[0]

    # Each figure is measured right beside the one it is compared with, so that load from
    # anything else on the machine weighs on both: cold pages beside Datasette's, hot pages
    # beside the limit. Idle servers cost nothing meanwhile.
    flush_redis(args)
    site = gunicorn(args, SITE_PORT, "site-cold", PAGE_CACHE_SECONDS=0)
    peer = datasette(db_path)
    try:
        for name, url, peer_url in pages(slug, claim_id, facets):
            page = result["pages"].setdefault(name, {})
            if name.startswith("API") and not has_route(args, url):
                page["cold"] = None
                continue
            print(f"   cold {name}", flush=True)
            page["cold"] = wrk(args, SITE_PORT, url)
            if peer_url:
                print(f"   Datasette {name}", flush=True)
                page["datasette"] = wrk(args, DATASETTE_PORT, peer_url)
                settle(page["datasette"])
        lighter = f"{DATASETTE_TABLE}?{DATASETTE_FILTERS}&_facet=route&_facet=origin"
        lighter += "&_facet=fda_status&_size=25"
        print("   Datasette list, 3 filters, 3 facets", flush=True)
        result["datasette_3_facets"] = wrk(args, DATASETTE_PORT, lighter)
        settle(result["datasette_3_facets"])
    finally:
        site.stop()
        peer.stop()

    flush_redis(args)
    site = gunicorn(args, SITE_PORT, "site-hot", PAGE_CACHE_SECONDS=300)
    limit = gunicorn(args, LIMIT_PORT, "limit", DJANGO_SETTINGS_MODULE="bench.trivial_settings")
    try:
        for name, url, _peer_url in pages(slug, claim_id, facets):
            page = result["pages"][name]
            if page["cold"] is None:
                page["hot"] = None
                continue
            print(f"   hot  {name}, and the limit", flush=True)
            page["limit"] = wrk(args, LIMIT_PORT, "/")
            page["hot"] = wrk(args, SITE_PORT, url)
    finally:
        site.stop()
        limit.stop()
    limits = sorted(page["limit"]["rps"] for page in result["pages"].values() if "limit" in page)
    result["limit"] = next(
        page["limit"]
        for page in result["pages"].values()
        if page.get("limit", {}).get("rps") == limits[len(limits) // 2]
    )
    result["load_after"] = os.getloadavg()[0]

    print("   CSV export", flush=True)
    result["csv"] = measure_csv(args)
    return result


def flush_redis(args):
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()


# --- Setup ----------------------------------------------------------------------------------------


def ensure_tools(args):
    if not shutil.which("wrk"):
        print("Installing wrk with apt-get…", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    for tool in ("gunicorn", "datasette"):
        if not (BIN / tool).exists():
            raise SystemExit(f"{tool} is missing: pip install -e '.[bench]' (make bench does)")
    import redis

    try:
        redis.Redis.from_url(args.redis_url).ping()
    except redis.ConnectionError:
        print("Starting a Redis server…", flush=True)
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--save", ""],
            check=True,
        )
        time.sleep(1)


def create_database(args):
    import psycopg

    name = args.database_url.rsplit("/", 1)[1]
    admin = args.database_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://")
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    manage(args, "migrate", "--noinput", "--verbosity", "0")
    manage(args, "loaddata", "fixtures/seed.json", "--verbosity", "0")
    manage(args, "collectstatic", "--noinput", "--verbosity", "0")


def next_results_file():
    """bench/results/<date>-<n>.md with the first n not taken: runs of a day keep each other."""
    runs = (RESULTS / f"{date.today().isoformat()}-{n}.md" for n in range(1, 1000))
    return next(path for path in runs if not path.exists())


def machine():
    def version(command):
        try:
            out = subprocess.run(command, capture_output=True, text=True, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    memory = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory / 1024 / 1024),
        "python": platform.python_version(),
        "postgresql": version(["psql", "--version"]),
        "wrk": version(["wrk", "--version"]).split(" [")[0],
        "datasette": version([str(BIN / "datasette"), "--version"]),
        "gunicorn": version([str(BIN / "gunicorn"), "--version"]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--duration", type=int, default=10, help="Seconds of load per URL.")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--load-duration", type=int, default=60)
    parser.add_argument("--load-connections", type=int, default=32)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/claimwatch_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    parser.add_argument("--output", help="Default: bench/results/<date>-<n>.md, a new n per run.")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    ensure_tools(args)
    create_database(args)
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "settings": {
            "connections": args.connections,
            "duration_s": args.duration,
            "workers": args.workers,
        },
        "sizes": [run_size(args, int(size)) for size in args.sizes.split(",")],
    }
    print(f"\n== load run: {args.load_duration} s at {args.load_connections} connections")
    results["load"] = load_run(args)  # on the largest data set, generated last
    results["minutes"] = round((time.monotonic() - started) / 60, 1)

    from bench.report import report

    text = report(results)
    print("\n" + text)
    output = Path(args.output) if args.output else next_results_file()
    output.write_text(text)
    output.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"Written to {output} and {output.with_suffix('.json').name}")


if __name__ == "__main__":
    main()
