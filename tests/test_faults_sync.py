"""A sync through a failing, rate-limiting Jira ends exactly where a fault-free one does."""

import json
import re

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator import FaultPlan
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
# Short pauses so the suite stays fast; the client's timeout is below the slow delay.
CLIENT = {"timeout": 0.5, "retries": 6, "backoff": 0.05}
# (seed, rate, endpoints): four broad schedules, and one aimed at the endpoints a run
# calls only once, so that every endpoint meets a fault.
PLANS = [(seed, 0.25, None) for seed in (1, 2, 3, 4)] + [
    (5, 0.5, ["GET /rest/api/3/field", "POST /rest/api/3/changelog/bulkfetch"]),
    (
        6,
        0.5,
        [
            "GET /rest/api/3/status",
            "GET /rest/api/3/resolution",
            "POST /rest/api/3/bulk/issues/fields",
        ],
    ),
]


def sync(config, *extra):
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--now", NOW, "--json", *extra]
    )
    return result.exit_code, result.stdout, result.stderr


def tracker_state(sim):
    state = {}
    for issue in build_demo_dataset()["issues"]:
        key = issue["key"]
        # (each state file seals the marker with a secret of its own: the seal differs)
        bots = [re.sub(r"^(\{anchor:jira-chase-[^}]*)-[0-9a-f]+\}", r"\1-SEAL}",
                       json.dumps(c["body"], sort_keys=True).strip('"'))
                for c in sim.comments(key) if c["author"] == "u-bot"]  # fmt: skip
        state[key] = (sorted(sim.labels(key)), sorted(bots))
    return state


def endpoint(method, path):
    """`PUT /rest/api/3/issue/APP-7/comment/10321` -> `PUT /rest/api/3/issue/{}/comment/{}`."""
    path = re.sub(r"/(issue|queue|comment)/[^/]+", r"/\1/{}", path.split("?")[0])
    return f"{method} {path}"


def test_sync_under_faults_matches_a_fault_free_run(tmp_path, jira_sim):
    clean = jira_sim(build_demo_dataset())
    code, _, err = sync(write_toml(tmp_path / "a.toml", demo_config(clean.url, "a.sqlite")))
    assert code == 0, err
    expected = tracker_state(clean)

    used, faulted = set(), set()
    for seed, rate, endpoints in PLANS:
        plan = FaultPlan(seed=seed, rate=rate, endpoints=endpoints, delay=1.0, retry_after=1)
        faulty = jira_sim(build_demo_dataset(), faults=plan)
        data = demo_config(faulty.url, f"s{seed}.sqlite", jira=CLIENT)
        config = write_toml(tmp_path / f"c{seed}.toml", data)
        code, out, err = sync(config)
        assert code == 0, err
        doc = json.loads(out)
        assert doc["summary"]["retries"] > 0
        if endpoints is None:
            assert sum(faulty.faults_injected.values()) >= 0.2 * faulty.request_count
        assert tracker_state(faulty) == expected, f"seed {seed}"
        used |= {endpoint(m, p) for m, p in faulty.requests}
        faulted |= {endpoint(r.method, r.path) for r in faulty.fault_log}
        code, out, _ = sync(config)
        assert json.loads(out)["operations"] == []
    # Across the seeds every endpoint the client used failed at least once.
    assert used - faulted == set()


def test_data_center_sync_under_faults_matches_a_fault_free_run(tmp_path, jira_sim):
    pat = {"token": "pat-1", "deployment": "datacenter", "email": ""}
    clean = jira_sim(build_demo_dataset(), deployment="datacenter")
    config = write_toml(tmp_path / "a.toml", demo_config(clean.url, "a.sqlite", jira=pat))
    code, _, err = sync(config)
    assert code == 0, err
    plan = FaultPlan(seed=11, rate=0.25, delay=1.0, retry_after=1)
    faulty = jira_sim(build_demo_dataset(), deployment="datacenter", faults=plan)
    data = demo_config(faulty.url, "b.sqlite", jira={**pat, **CLIENT})
    code, out, err = sync(write_toml(tmp_path / "b.toml", data))
    assert code == 0, err
    assert json.loads(out)["summary"]["retries"] > 0
    assert sum(faulty.faults_injected.values()) >= 0.2 * faulty.request_count
    assert tracker_state(faulty) == tracker_state(clean)
