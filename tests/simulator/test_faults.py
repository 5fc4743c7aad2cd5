"""Fault injection: a seeded schedule, each kind as a client meets it, writes' outcomes."""

from __future__ import annotations

import email.utils
import math
import time
from typing import Any

import jira
import pytest
import requests

from jira_chase.simulator import JiraSimulator
from jira_chase.simulator.faults import (
    APPLIED,
    FAULT_KINDS,
    FaultPlan,
    FaultSchedule,
    parse_kinds,
)
from tests.conftest import SimulatorFactory
from tests.openapi_check import Exchange, validate_exchanges

BOT = ("bot@example.com", "token")
ADD = {"update": {"labels": [{"add": "chase-late"}]}}


def bot() -> requests.Session:
    session = requests.Session()
    session.auth = BOT
    return session


def only(kind: str, **options: Any) -> FaultPlan:
    return FaultPlan(seed=1, rate=1.0, kinds=[kind], **options)


# -- the schedule ------------------------------------------------------------------------------


def decisions(plan: FaultPlan, count: int, path: str = "/rest/api/3/myself") -> list[str | None]:
    schedule = FaultSchedule(plan)
    return [record.kind if (record := schedule.decide("GET", path)) else None for _ in range(count)]


def test_the_schedule_is_reproducible_and_keeps_its_rate_on_every_prefix() -> None:
    plan = FaultPlan(seed=42, rate=0.2)
    first = decisions(plan, 500)
    assert first == decisions(plan, 500)
    assert first != decisions(FaultPlan(seed=43, rate=0.2), 500)
    for n in range(1, 501):
        faulted = sum(kind is not None for kind in first[:n])
        assert math.ceil(n * 0.2 - 1e-9) <= faulted <= math.ceil(n * 0.2) + 1
    assert set(first) - {None} == set(FAULT_KINDS)  # every kind turns up
    assert any(a and b for a, b in zip(first, first[1:]))  # faults can follow each other


def test_kind_weights_endpoint_patterns_and_rate_bounds() -> None:
    weighted = decisions(FaultPlan(seed=3, rate=1.0, kinds={"slow": 0, "rate-limit": 1}), 50)
    assert set(weighted) == {"rate-limit"}
    assert decisions(FaultPlan(rate=0.0), 20) == [None] * 20
    plan = FaultPlan(rate=1.0, endpoints=["PUT /rest/api/*/issue/*", "*/search/jql"])
    assert plan.eligible("PUT", "/rest/api/3/issue/APP-1")
    assert plan.eligible("GET", "/rest/api/3/search/jql")
    assert not plan.eligible("GET", "/rest/api/3/issue/APP-1")
    assert decisions(plan, 5, "/rest/api/3/myself") == [None] * 5
    for bad in (
        {"rate": 1.5},
        {"kinds": ["meteor"]},
        {"kinds": []},
        {"endpoints": "*/search"},
        {"delay": -1},
    ):
        with pytest.raises(ValueError):
            FaultPlan(**bad)  # type: ignore[arg-type]
    assert parse_kinds("rate-limit, slow") == ("rate-limit", "slow")
    with pytest.raises(ValueError, match="unknown fault kind"):
        parse_kinds("rate-limit,oops")


# -- each kind over a socket -----------------------------------------------------------------


def test_rate_limits_carry_jira_cloud_headers(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, faults=only("rate-limit", retry_after=2))
    answer = bot().get(f"{sim.url}/rest/api/3/myself")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "2"
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    assert answer.headers["X-RateLimit-Limit"]
    assert answer.headers["X-RateLimit-NearLimit"] == "true"
    assert answer.headers["RateLimit-Reason"] == "jira-burst-based"
    assert answer.headers["X-RateLimit-Reset"].endswith("Z")
    assert answer.json()["errorMessages"]


def test_rate_limits_in_other_forms(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    dated = jira_sim(demo_like_dataset, faults=only("rate-limit-date", retry_after=1))
    answer = bot().get(f"{dated.url}/rest/api/3/myself")
    when = email.utils.parsedate_to_datetime(answer.headers["Retry-After"])
    assert 0 < when.timestamp() - time.time() <= 3
    bare = jira_sim(demo_like_dataset, faults=only("rate-limit-bare"))
    answer = bot().get(f"{bare.url}/rest/api/3/myself")
    assert answer.status_code == 429 and "Retry-After" not in answer.headers
    dc = jira_sim(demo_like_dataset, deployment="datacenter", faults=only("rate-limit"))
    answer = requests.get(f"{dc.url}/rest/api/2/myself", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"
    assert answer.headers["X-RateLimit-FillRate"] and answer.headers["X-RateLimit-Interval-Seconds"]
    assert "RateLimit-Reason" not in answer.headers


@pytest.mark.parametrize(
    ("kind", "status", "retry_after"),
    [
        ("unavailable", 503, "1"),
        ("unavailable-bare", 503, None),
        ("server-error", 500, None),
        ("bad-gateway", 502, None),
    ],
)
def test_server_errors(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, kind: str, status: int, retry_after: Any
) -> None:
    sim = jira_sim(demo_like_dataset, faults=only(kind))
    answer = bot().put(f"{sim.url}/rest/api/3/issue/APP-3", json=ADD)
    assert answer.status_code == status
    assert answer.headers.get("Retry-After") == retry_after
    if kind == "bad-gateway":  # a proxy's page: the client must not expect JSON
        assert answer.headers["Content-Type"].startswith("text/html")
        with pytest.raises(requests.exceptions.JSONDecodeError):
            answer.json()
    # 502: the proxy lost the answer of a write that was carried out; the others were not.
    assert (sim.labels("APP-3") == ["chase-late"]) is APPLIED[kind]
    assert sim.fault_log[0].applied is APPLIED[kind]


@pytest.mark.parametrize("kind", ["reset-before", "reset-after"])
def test_connection_resets_before_or_after_the_write(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, kind: str
) -> None:
    sim = jira_sim(demo_like_dataset, faults=only(kind))
    adf = {"type": "doc", "version": 1, "content": []}
    with pytest.raises(requests.ConnectionError):
        bot().post(f"{sim.url}/rest/api/3/issue/APP-3/comment", json={"body": adf})
    assert len(sim.comments("APP-3")) == (1 if kind == "reset-after" else 0)
    assert sim.faults_injected == {kind: 1} and sim.request_count == 1


def test_a_slow_answer_times_the_client_out_after_the_write(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, faults=only("slow", delay=0.6))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        bot().put(f"{sim.url}/rest/api/3/issue/APP-3", json=ADD, timeout=0.3)
    assert time.monotonic() - started < 0.6
    assert sim.labels("APP-3") == ["chase-late"]  # carried out before the answer was held back


def test_cut_bodies(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    truncated = jira_sim(demo_like_dataset, faults=only("truncated"))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        bot().get(f"{truncated.url}/rest/api/3/issue/APP-1")
    malformed = jira_sim(demo_like_dataset, faults=only("malformed"))
    answer = bot().get(f"{malformed.url}/rest/api/3/issue/APP-1")
    assert answer.status_code == 200
    assert len(answer.content) == int(answer.headers["Content-Length"])
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()
    # A 204 has no body to cut: the fault becomes a reset after the write.
    with pytest.raises(requests.ConnectionError):
        bot().put(f"{malformed.url}/rest/api/3/issue/APP-3", json=ADD)
    assert malformed.labels("APP-3") == ["chase-late"]
    assert malformed.faults_injected == {"malformed": 1, "reset-after": 1}


def test_latency_is_added_to_every_request(demo_like_dataset: dict) -> None:
    with JiraSimulator(demo_like_dataset, latency=0.1) as sim:
        session = bot()
        session.get(f"{sim.url}/rest/api/3/myself")  # connect
        started = time.monotonic()
        for _ in range(3):
            assert session.get(f"{sim.url}/rest/api/3/myself").status_code == 200
        assert time.monotonic() - started >= 0.3


# -- a client's run through faults -----------------------------------------------------------------


def test_a_fifth_of_a_run_fails_and_only_real_answers_are_validated(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    kinds = [k for k in FAULT_KINDS if k != "slow"]
    sim = jira_sim(demo_like_dataset, faults=FaultPlan(seed=5, rate=0.2, kinds=kinds))
    failures = 0
    for _ in range(40):
        try:
            answer = bot().get(f"{sim.url}/rest/api/3/issue/APP-1", timeout=2)
            answer.json()
            failures += answer.status_code >= 400
        except (requests.RequestException, ValueError):
            failures += 1
    injected = sum(sim.faults_injected.values())
    assert injected >= 0.2 * sim.request_count and failures == injected
    assert [record.index for record in sim.fault_log] == sorted(r.index for r in sim.fault_log)
    # The fixture validates the 32 real answers at teardown and skips the 8 faults.


def test_the_check_skips_faults_but_not_answers(cloud_spec: Any) -> None:
    fault = Exchange("GET", "/rest/api/3/myself", {}, None, 429, {}, {"nonsense": 1}, "rate-limit")
    validate_exchanges([fault], spec=cloud_spec)
    for kind in (None, "slow", "truncated"):  # a real answer, even if delivered late or cut
        real = Exchange("GET", "/rest/api/3/myself", {}, None, 200, {}, {"nonsense": 1}, kind)
        with pytest.raises(AssertionError):
            validate_exchanges([real], spec=cloud_spec)


def test_the_jira_library_retries_rate_limits_on_data_center(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    plan = FaultPlan(seed=2, rate=0.5, kinds=["rate-limit"], retry_after=0, endpoints=["*/search"])
    sim = jira_sim(demo_like_dataset, deployment="datacenter", faults=plan)
    client = jira.JIRA(server=sim.url, token_auth="pat", options={"rest_api_version": "2"})
    client._session.max_retry_delay = 0.05  # keep the library's backoff short for the test
    lower: Any = "true"  # validateQuery as the docs write it (the library sends "True")
    found = client.search_issues(
        "project = APP ORDER BY key", maxResults=False, validate_query=lower
    )
    assert len(found) == 7
    assert sim.faults_injected["rate-limit"] >= 1
