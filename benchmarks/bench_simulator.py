"""Benchmark the simulator at scale: generate, load, and page a whole scope on both flavours.

Run by hand (not part of the test suite)::

    python benchmarks/bench_simulator.py                 # 100,000 issues
    python benchmarks/bench_simulator.py --issues 20000 --no-changelog

It generates a dataset (streamed to a temporary file), loads it once, then pages through
every issue the way a sync does: Jira Cloud ``POST search/jql`` by ``nextPageToken``
(the fields a sync reads, then again with ``expand=changelog``), and Jira Data Center
``GET /search`` by ``startAt`` (``*navigable`` fields and the full changelog). Both
simulators serve the same loaded dataset. It prints wall times, request counts, and the
process's peak resident memory after each phase (``resource.getrusage``: the server and
the client share the process, so the figure covers both).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jira_chase.simulator import JiraSimulator, load_dataset  # noqa: E402
from jira_chase.simulator.generate import write_dataset  # noqa: E402
from jira_chase.sources.jira.reading import BASE_FIELDS  # noqa: E402

# What a sync asks for (the comments aside, which only inflate the pages here).
SYNC_FIELDS = [f for f in BASE_FIELDS if f != "comment"]


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


def timed(label: str, action: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    print(f"{label:<58} {elapsed:8.2f} s   peak RSS {peak_mb():7.0f} MB", flush=True)
    return result


def cloud_scope(sim: JiraSimulator, jql: str, *, changelog: bool) -> tuple[int, int]:
    session = requests.Session()
    session.auth = ("bot@example.com", "token")
    body: dict[str, Any] = {"jql": jql, "maxResults": 5000, "fields": SYNC_FIELDS}
    if changelog:
        body["expand"] = "changelog"
    seen = requests_made = 0
    token = None
    while True:
        if token:
            body["nextPageToken"] = token
        page = session.post(f"{sim.url}/rest/api/3/search/jql", json=body, timeout=120).json()
        requests_made += 1
        seen += len(page["issues"])
        token = page.get("nextPageToken")
        if page["isLast"]:
            return seen, requests_made


def dc_scope(sim: JiraSimulator, jql: str, *, changelog: bool) -> tuple[int, int]:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer benchmark-pat"
    params: dict[str, Any] = {"jql": jql, "maxResults": 1000, "fields": "*navigable"}
    if changelog:
        params["expand"] = "changelog"
    seen = requests_made = start = 0
    while True:
        params["startAt"] = start
        page = session.get(f"{sim.url}/rest/api/2/search", params=params, timeout=120).json()
        requests_made += 1
        seen += len(page["issues"])
        start += page["maxResults"]  # page by what the server used, not what was asked
        if start >= page["total"]:
            return seen, requests_made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-changelog", action="store_true", help="skip the changelog passes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.json"

        def generate() -> None:
            with path.open("w") as out:
                write_dataset(out, args.issues, args.seed)

        timed(f"generate {args.issues:,} issues (streamed JSON)", generate)
        print(f"{'  dataset file':<58} {path.stat().st_size / 1e6:8.1f} MB")
        dataset = timed("load and validate the dataset", lambda: load_dataset(path))
    jql = "project in (" + ", ".join(dataset.projects) + ") ORDER BY key"
    one = next(iter(dataset.projects))
    histories = sum(len(issue.history_source) for issue in dataset.issues.values())
    print(f"{'  issues / dataset history entries':<58} {len(dataset.issues):,} / {histories:,}")

    with (
        JiraSimulator(dataset) as cloud,
        JiraSimulator(dataset, deployment="datacenter") as dc,
    ):
        passes: list[tuple[str, Callable[[], tuple[int, int]]]] = [
            (f"Cloud search/jql, project = {one}", lambda: cloud_scope(
                cloud, f"project = {one} ORDER BY key", changelog=False)),
            ("Cloud search/jql, whole scope, sync fields", lambda: cloud_scope(
                cloud, jql, changelog=False)),
            ("DC /search, whole scope, *navigable", lambda: dc_scope(dc, jql, changelog=False)),
        ]  # fmt: skip
        if not args.no_changelog:
            passes += [
                ("DC /search, whole scope, *navigable + full changelog", lambda: dc_scope(
                    dc, jql, changelog=True)),
                ("Cloud search/jql, whole scope, + changelog (40 inline)", lambda: cloud_scope(
                    cloud, jql, changelog=True)),
            ]  # fmt: skip
        for label, action in passes:
            seen, made = timed(label, action)
            print(f"{'  issues seen / requests':<58} {seen:>8,} / {made}")


if __name__ == "__main__":
    main()
