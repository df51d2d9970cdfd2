"""Benchmark of the turf engine against its peers, on the same doors, in one run.

    .venv/bin/python bench/turf_cut.py                 # Cambridge, target 80, by ward
    .venv/bin/python bench/turf_cut.py --synthetic 1000000

Rows: our engine through the real `cut_turfs` command (timed end to end, Django start-up and
file reading included) and the engine alone; scikit-learn KMeans and k-means-constrained
(size 60-100), each ward cut separately, walk order by `order_walk` without streets or barriers
(the shortest walk our polish finds, door location by door location), and again with our
street-aware walk; our own turfs also walked without the street rules. Every row's metrics come
from `turf.cutting.compute_metrics`, so they are computed the same way.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from turf.cutting import DoorSet, compute_metrics, cut, order_walk, order_walks  # noqa: E402
from turf.cutting.io import (  # noqa: E402
    DoorColumns,
    parse_filter,
    read_barriers,
    read_doors_csv,
    read_streets,
)

DATA = ROOT / ".." / "shared" / "data" / "cambridge"
TARGET = 80

HEADER = (
    "| method | time | doors/turf | within ±10% | within ±25% | compactness | overlap "
    "| walk km | split bldgs | barrier legs | contiguous |"
)


def row(method: str, seconds: float, m: dict[str, object]) -> str:
    return (
        f"| {method} | {seconds:.2f} s | {m['doors_per_turf_min']}-{m['doors_per_turf_max']} "
        f"| {float(m['within_10pct']):.1%} | {float(m['within_25pct']):.1%} "
        f"| {float(m['compactness']):.3f} | {float(m['overlap']):.2%} | {float(m['walk_km']):.1f} "
        f"| {m['split_buildings']} | {m['barrier_legs']} | {m['contiguous_turfs']}/{m['turfs']} |"
    )


def command_args(out: str) -> list[str]:
    d = "../shared/data/cambridge"
    return [
        sys.executable, "manage.py", "cut_turfs",
        "--doors", f"{d}/address/doors.csv",
        "--id-col", "address_id", "--building-col", "bldg_id",
        "--street-col", "street", "--number-col", "house_number",
        "--group-by", "ward", "--target", str(TARGET),
        "--barriers", f"{d}/barriers/rail.geojson", f"{d}/barriers/water.geojson",
        "--streets", f"{d}/streets/centerlines.geojson",
        "--out", out,
    ]  # fmt: skip


def peer_cut(doors: DoorSet, method: str) -> list[list[int]]:
    """Turfs (door indices) by a peer, each ward separately; walk order added by the caller."""
    assert doors.group is not None
    groups = np.asarray(doors.group)
    turfs: list[list[int]] = []
    for g in sorted(set(doors.group)):
        members = np.flatnonzero(groups == g)
        k = max(1, round(len(members) / TARGET))
        xy = np.column_stack([doors.x[members], doors.y[members]])
        if method == "kmeans":
            from sklearn.cluster import KMeans

            labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(xy)
        else:
            from k_means_constrained import KMeansConstrained

            lo = min(60, len(members) // k)
            hi = max(100, -(-len(members) // k))
            labels = KMeansConstrained(
                n_clusters=k, size_min=lo, size_max=hi, random_state=0
            ).fit_predict(xy)
        for c in range(k):
            sel = members[labels == c]
            if len(sel):
                turfs.append(sel.tolist())
    return turfs


def cambridge() -> None:
    if not (DATA / "address" / "doors.csv").exists():
        sys.exit(f"Cambridge data not found at {DATA}")
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "turfs.geojson")
        t0 = time.perf_counter()
        subprocess.run(command_args(out), cwd=ROOT, check=True, capture_output=True)
        command_s = time.perf_counter() - t0
        metrics = json.loads(Path(out).read_text())["metrics"]
    rows.append(row("ours: `manage.py cut_turfs` end to end", command_s, metrics))

    doors, proj = read_doors_csv(
        DATA / "address" / "doors.csv",
        DoorColumns(
            id="address_id", building="bldg_id", street="street", number="house_number",
            group="ward",
        ),
    )  # fmt: skip
    barriers = read_barriers(
        [DATA / "barriers" / "rail.geojson", DATA / "barriers" / "water.geojson"],
        proj,
        parse_filter(None),
    )
    streets = read_streets(DATA / "streets" / "centerlines.geojson", proj)
    t0 = time.perf_counter()
    res = cut(doors, target=TARGET, barriers=barriers, streets=streets)
    engine_s = time.perf_counter() - t0
    rows.append(row("ours: engine alone (`cut`)", engine_s, res.metrics))
    # The same turfs walked without the street rules (shortest walk found, barriers avoided):
    # what the rules cost in straight-line km.
    ours = [t.indices for t in res.turfs]
    free = order_walks(doors, ours, barriers=barriers, street_rules=False)
    overall, _ = compute_metrics(doors, free, target=TARGET, barriers=barriers)
    rows.append(row("ours, same turfs walked without the street rules", engine_s, overall))

    for label, method in (
        ("scikit-learn KMeans", "kmeans"),
        ("k-means-constrained, size 60-100", "kmc"),
    ):
        t0 = time.perf_counter()
        turfs = peer_cut(doors, method)
        walks = [order_walk(doors, t, barriers=None) for t in turfs]
        seconds = time.perf_counter() - t0
        overall, _ = compute_metrics(doors, walks, target=TARGET, barriers=barriers)
        rows.append(row(label, seconds, overall))
        # The peer's turfs walked by our street-aware walk (same rules as ours).
        ruled = order_walks(doors, turfs, streets=streets, barriers=barriers)
        overall, _ = compute_metrics(doors, ruled, target=TARGET, barriers=barriers)
        rows.append(row(f"{label}, walked with our street rules", seconds, overall))
    print(f"Cambridge MA, {len(doors)} doors, target {TARGET}, each ward cut separately\n")
    print(HEADER)
    print("|" + "---|" * 11)
    print("\n".join(rows))


def _rss_mb() -> float:
    """Resident memory now (Linux /proc), else the peak so far."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreeMemory:
    """Peak proportional set size (PSS, Linux) of this process and its children together,
    sampled every `every` seconds while running: the memory of a cut with worker processes,
    each page the workers share with the parent counted once (their RSS would count it in
    each)."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, self.sample_mb())
            if self._stop.wait(self.every):
                return

    @staticmethod
    def sample_mb() -> float:
        total_kb = 0
        for pid in ["self", *TreeMemory._children()]:
            try:
                with open(f"/proc/{pid}/smaps_rollup") as fh:
                    for line in fh:
                        if line.startswith("Pss:"):
                            total_kb += int(line.split()[1])
                            break
            except OSError:  # a worker that just exited
                continue
        return total_kb / 1024

    @staticmethod
    def _children() -> list[str]:
        out: list[str] = []
        try:
            for task in Path("/proc/self/task").iterdir():
                out.extend((task / "children").read_text().split())
        except OSError:
            pass
        return out


def synthetic(n: int, trace_memory: bool = False, jobs: int = 1) -> None:
    from turf.synthetic import city_generate

    t0 = time.perf_counter()
    # The project's synthetic city (the demo's generator): street grid, river, railway, wards.
    doors, barriers, streets = city_generate(doors=n, seed=7).engine_inputs(group_by="ward")
    gen_s = time.perf_counter() - t0
    gen_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inputs = _rss_mb()
    # With --trace-memory, traced from here: the cut's own allocations (numpy and Python; GEOS
    # is not traced), without a trace per string of the generated inputs. Off by default:
    # tracemalloc records a traceback per allocation, which makes the cut ~5x slower (every
    # numpy temporary counts), so the time printed would not be the engine's.
    if trace_memory:
        tracemalloc.start()
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"{msg} [{_rss_mb():.0f} MB resident]", flush=True)

    with TreeMemory() as tree:
        res = cut(
            doors, target=TARGET, barriers=barriers, streets=streets, progress=progress, jobs=jobs
        )
    cut_s = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    if trace_memory:
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"synthetic district: {len(doors)} doors, generated in {gen_s:.1f} s")
    print(HEADER)
    print("|" + "---|" * 11)
    label = "ours: engine alone (`cut`)" + (f", {jobs} worker processes" if jobs > 1 else "")
    print(row(label, cut_s, res.metrics))
    print(
        f"\npeak memory: {rss:.0f} MB RSS (ru_maxrss, whole process; {gen_peak:.0f} MB peak while "
        f"generating, {inputs:.0f} MB resident with the inputs before the cut); "
        f"{tree.peak_mb:.0f} MB PSS at most during the cut, this process and its workers "
        "together (sampled every 0.2 s)"
        + (
            f", {peak / 2**20:.0f} MB traced by tracemalloc during the cut (the time above is "
            "slowed down several times by the trace)"
            if trace_memory
            else ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--synthetic", type=int, help="cut a synthetic district of N doors")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="with --synthetic: also report the cut's allocations traced by tracemalloc "
        "(several times slower: for memory studies, not for timing)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="with --synthetic: cut the wards in this many worker processes (default 1)",
    )
    args = parser.parse_args()
    if args.synthetic:
        synthetic(args.synthetic, trace_memory=args.trace_memory, jobs=args.jobs)
    else:
        cambridge()


if __name__ == "__main__":
    main()
