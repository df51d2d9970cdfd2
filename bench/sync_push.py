"""Benchmark of the batch push (`POST /api/sync/contacts/`) and the turf packet, over real HTTP.

    .venv/bin/python bench/sync_push.py                 # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/sync_push.py --workers 4 --port 8765

Creates a throwaway PostgreSQL database, migrates it, seeds one campaign with 50 canvassers
(each assigned a 100-door turf), starts gunicorn (DEBUG=0, production settings) and measures,
in the same run:
- 100-item batches at 1, 10 and 50 concurrent devices: items merged per second, p50/p95 batch
  latency, the server's CPU per request (gunicorn workers + PostgreSQL backends) and this
  client's own (it shares the machine's cores with the server);
- the naive peer: the same endpoint with 1-item batches (one request per knock);
- a 100-door packet: median latency of a full GET (unchanged: cached body), of a 304
  revalidation and of a full GET right after a knock (body built).
Drops the database at the end. Prints one table (the README's `## Sync`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed(devices: int, doors: int) -> list[dict]:
    """One campaign, `devices` canvassers each with a token and a `doors`-door turf."""
    import django

    django.setup()
    from django.apps import apps
    from django.contrib.auth import get_user_model

    from canvass.models import Person
    from canvass.services import campaign_create, membership_grant, organization_create
    from turf.models import Assignment, Household, Turf, TurfDoor

    Token = apps.get_model("authtoken", "Token")  # API tokens for the HTTP clients
    org = organization_create(name="Bench Org", slug="bench")
    campaign = campaign_create(organization=org, name="Bench Campaign")
    start = datetime.now(UTC) - timedelta(days=1)
    out = []
    for n in range(devices):
        # No password: the clients use API tokens (and PBKDF2 would dominate the seeding).
        user = get_user_model().objects.create_user(username=f"canvasser{n}")
        membership_grant(campaign=campaign, user=user, role="canvasser")
        token = Token.objects.create(user=user)
        turf = Turf.objects.create(
            campaign=campaign,
            name=f"Bench {n}",
            list_number=f"B{n:04d}",
            status="published",
            door_count=doors,
            polygon=None,
        )
        households = Household.objects.bulk_create(
            [
                Household(
                    organization=org,
                    house_number=str(i + 1),
                    street=f"Bench St {n}",
                    address_key=f"{i + 1}|BENCH ST {n}|",
                    lon=-71.1 + i * 1e-4,
                    lat=42.37 + n * 1e-4,
                    building_key=f"b{n}-{i}",
                )
                for i in range(doors)
            ]
        )
        TurfDoor.objects.bulk_create(
            [TurfDoor(turf=turf, household=h, position=i) for i, h in enumerate(households)]
        )
        people = Person.objects.bulk_create(
            [
                Person(organization=org, household=h, first_name=f"P{i}", last_name="Bench")
                for i, h in enumerate(households)
            ]
        )
        Assignment.objects.create(campaign=campaign, turf=turf, canvasser=user, created_at=start)
        out.append(
            {
                "token": token.key,
                "turf": turf.pk,
                "doors": [(h.pk, p.pk) for h, p in zip(households, people, strict=True)],
                "campaign": campaign.pk,
                # The device's clock: its knocks' device times, one every 10 s from just
                # after the assignment began (make_batches moves it on).
                "clock": start + timedelta(minutes=1),
            }
        )
    return out


def make_batches(device: dict, n_batches: int, size: int) -> list[bytes]:
    """Pre-encoded request bodies, so the clients spend no time building JSON while timed."""
    codes = ["canvassed", "not_home", "refused", "come_back_later"]
    # Device times only move forward, as a canvasser's day does: each batch's knocks are later
    # than the last one's, so they replace every door's latest result and supporter ID (the
    # derived rows' real update path), not just bump their counts.
    bodies = []
    k = device.get("knocks", 0)
    for _ in range(n_batches):
        items = []
        for _ in range(size):
            visit, door = divmod(k, len(device["doors"]))
            household, person = device["doors"][door]
            items.append(
                {
                    "kind": "contact",
                    "id": str(uuid.uuid4()),
                    "household": household,
                    "person": person,
                    "turf": device["turf"],
                    # A revisit's outcome differs from the last one's.
                    "result_code": codes[(k + visit) % 4],
                    "supporter_id": (k + visit) % 5 + 1,
                    "device_time": device["clock"].isoformat(),
                }
            )
            device["clock"] += timedelta(seconds=10)
            k += 1
        bodies.append(
            json.dumps(
                {
                    "device_id": f"bench-{device['turf']}",
                    "campaign_id": device["campaign"],
                    "items": items,
                }
            ).encode()
        )
    device["knocks"] = k
    return bodies


class ServerCpu:
    """CPU seconds (user + system) used by the server side: the gunicorn workers and the
    PostgreSQL client backends serving the bench database (not autovacuum, the WAL writer or
    the checkpointer). On a shared machine wall-clock rates follow the other jobs; CPU per
    request much less so."""

    def __init__(self, server_pid: int, db: str) -> None:
        self.server_pid = server_pid
        self.db = db
        self.tick = os.sysconf("SC_CLK_TCK")

    def _cpu(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick

    def split(self) -> tuple[float, float]:
        """(gunicorn workers, PostgreSQL backends) CPU seconds so far."""
        import psycopg

        children = Path(f"/proc/{self.server_pid}/task/{self.server_pid}/children")
        workers = [int(p) for p in children.read_text().split()] + [self.server_pid]
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            backends = [
                row[0]
                for row in admin.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend'",
                    [self.db],
                )
            ]
        return sum(map(self._cpu, workers)), sum(map(self._cpu, backends))


def push(port: int, token: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    """One `POST /api/sync/contacts/` on a new connection: (status, response body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(
        "POST",
        "/api/sync/contacts/",
        body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, payload


def run_level(
    port: int, devices: list[dict], batches_each: int, size: int, cpu: ServerCpu | None = None
) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    work = [(d, make_batches(d, batches_each, size)) for d in devices]
    barrier = threading.Barrier(len(work) + 1)

    def client(device: dict, bodies: list[bytes]) -> None:
        barrier.wait()
        for body in bodies:
            started = time.perf_counter()
            status, payload = push(port, device["token"], body, timeout=120)
            elapsed = time.perf_counter() - started
            if status != 200 or json.loads(payload)["summary"]["created"] != size:
                errors.append(f"{status}: {payload[:200]!r}")
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=w) for w in work]
    for t in threads:
        t.start()
    before = cpu.split() if cpu else (0.0, 0.0)
    client_before = time.process_time()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    after = cpu.split() if cpu else (0.0, 0.0)
    client_cpu = time.process_time() - client_before
    items = len(devices) * batches_each * size
    requests = len(devices) * batches_each
    return {
        "app_cpu": (after[0] - before[0]) / requests * 1000,
        "db_cpu": (after[1] - before[1]) / requests * 1000,
        "client_cpu": client_cpu / requests * 1000,
        "items": items,
        "wall": wall,
        "rate": items / wall,
        "p50": pct(latencies, 0.5) * 1000,
        "p95": pct(latencies, 0.95) * 1000,
        "errors": errors,
    }


def packet_latency(port: int, device: dict, rounds: int) -> tuple[float, float, int]:
    def get(etag: str | None) -> tuple[float, str, int]:
        headers = {"Authorization": f"Token {device['token']}", "Accept-Encoding": "gzip"}
        if etag:
            headers["If-None-Match"] = etag
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", f"/api/turfs/{device['turf']}/packet/", headers=headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status in (200, 304), (response.status, body[:200])
        return time.perf_counter() - started, response.getheader("ETag") or "", len(body)

    get(None)
    full = [get(None) for _ in range(rounds)]
    etag = full[-1][1]
    revalidate = [get(etag)[0] for _ in range(rounds)]
    # Cold: every fetch follows a knock on the turf, so the ETag changed and the body is built
    # (not served from the cache).
    knocks = make_batches(device, rounds, 1)
    cold = []
    for body in knocks:
        push(port, device["token"], body, timeout=60)
        cold.append(get(etag)[0])
    return (
        statistics.median(t for t, _, _ in full) * 1000,
        statistics.median(revalidate) * 1000,
        statistics.median(cold) * 1000,
        full[-1][2],
    )


def wait_for(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited early")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/me/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    import psycopg

    load_before = os.getloadavg()
    db = f"canvass_bench_sync_{os.getpid()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"{PG}/{db}",
        "DB_CONN_MAX_AGE": "600",
        "THROTTLE_USER": "100000000/min",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db}"')
    server = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        print("seeding 50 canvassers x 100 doors ...", flush=True)
        devices = seed(50, 100)
        from django.db import connections

        connections.close_all()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "-w",
                str(args.workers),
                "--threads",
                "1",
                "-b",
                f"127.0.0.1:{args.port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_for(args.port, server)
        run_level(args.port, devices[:4], 2, 10)  # warm-up: workers, connections, caches
        # A campaign under way: every door knocked once, and the planner's statistics of
        # that state, as the product's imports leave them (turf.imports.common) and autovacuum
        # keeps them. Without statistics the push's people lookup read the whole organization
        # per batch; with statistics of the bare seed (no door results yet) the packet rebuilt
        # after a knock took 26-34 ms instead of ~18.
        run_level(args.port, devices, 1, 100)
        with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
            conn.execute("ANALYZE")
        cpu = ServerCpu(server.pid, db)

        rows = []
        plan = [(1, 40), (10, 8), (50, 8)]
        for concurrency, batches_each in plan:
            print(f"batches of {args.batch}, {concurrency} devices ...", flush=True)
            rows.append(
                (
                    f"batch push, {args.batch} items/request",
                    concurrency,
                    run_level(args.port, devices[:concurrency], batches_each, args.batch, cpu),
                )
            )
            print(
                "   ",
                {k: v for k, v in rows[-1][2].items() if k != "errors"},
                rows[-1][2]["errors"][:2],
                flush=True,
            )
        naive_plan = [(1, 300), (10, 60), (50, 20)]
        for concurrency, requests_each in naive_plan:
            print(f"naive 1-item requests, {concurrency} devices ...", flush=True)
            rows.append(
                (
                    "naive: 1 item/request",
                    concurrency,
                    run_level(args.port, devices[:concurrency], requests_each, 1, cpu),
                )
            )
            print(
                "   ",
                {k: v for k, v in rows[-1][2].items() if k != "errors"},
                rows[-1][2]["errors"][:2],
                flush=True,
            )
        packet_full, packet_304, packet_cold, packet_bytes = packet_latency(
            args.port, devices[0], 50
        )
        load_after = os.getloadavg()

        print()
        print(
            "| peer | devices | items | items/s | p50 batch | p95 batch "
            "| server CPU per request (app + db) | client CPU per request | errors |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, concurrency, r in rows:
            print(
                f"| {name} | {concurrency} | {r['items']} | {r['rate']:,.0f} "
                f"| {r['p50']:.0f} ms | {r['p95']:.0f} ms "
                f"| {r['app_cpu'] + r['db_cpu']:.1f} ms ({r['app_cpu']:.1f} + {r['db_cpu']:.1f}) "
                f"| {r['client_cpu']:.1f} ms | {len(r['errors'])} |"
            )
        print()
        print(
            f"100-door packet (gzip, {packet_bytes:,} bytes on the wire): median "
            f"{packet_full:.1f} ms full GET (unchanged turf: cached body), {packet_304:.1f} ms "
            f"for a 304 revalidation, {packet_cold:.1f} ms for a full GET right after a knock "
            "(new ETag: body built)."
        )
        print(
            f"load average before: {' / '.join(f'{x:.1f}' for x in load_before)}, "
            f"after: {' / '.join(f'{x:.1f}' for x in load_after)} (1/5/15 min); "
            f"gunicorn -w {args.workers} (sync workers), DB_CONN_MAX_AGE=600."
        )
        for _, _, r in rows:
            for e in r["errors"][:3]:
                print("error:", e)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
