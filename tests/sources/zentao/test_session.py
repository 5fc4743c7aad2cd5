"""Signing in, renewing the session and mapping failures to clear errors, against the
ZenTao simulator over real sockets."""

from __future__ import annotations

import pytest

from jira_chase.engine.plan import LABELS, Operation
from jira_chase.errors import TrackerError
from jira_chase.simulator.faults import FaultPlan
from jira_chase.sources.zentao.source import ZenTaoSource
from tests.sources.zentao.conftest import settings


def test_wrong_credentials_are_one_clear_error_without_the_password(zentao_sim):
    sim = zentao_sim(credentials={"bot": "right"})
    with pytest.raises(TrackerError) as info:
        ZenTaoSource(settings(sim.url, password="s3cret-wrong")).identify()
    message = str(info.value)
    assert "zentao.account = 'bot'" in message and "HTTP 400" in message
    assert "more chances" in message and "s3cret-wrong" not in message


def test_unreachable_site_names_the_url():
    with pytest.raises(TrackerError, match=r"zentao\.url = http://127\.0\.0\.1:9"):
        ZenTaoSource(settings("http://127.0.0.1:9", timeout=2, retries=0)).identify()


def test_not_a_zentao_rest_api_is_explained(zentao_sim):
    sim = zentao_sim()
    with pytest.raises(TrackerError, match="16.0 or newer"):
        ZenTaoSource(settings(sim.url + "/nothing-here")).identify()


def test_an_expired_session_is_renewed_once_and_the_run_goes_on(zentao_sim):
    sim = zentao_sim(expire_tokens_after=5)
    source = ZenTaoSource(settings(sim.url))
    issues = source.fetch_issues()
    assert len(issues) == 7 and source.logins >= 2
    sim.expire_tokens()
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("chase-at-risk",))])
    assert outcome.error is None and "chase-at-risk" in sim.labels("bug-1")


def test_reads_survive_rate_limits_server_errors_and_cut_answers(zentao_sim):
    plan = FaultPlan(seed=3, rate=0.3, retry_after=0, endpoints=["GET *"],
                     kinds=["rate-limit", "unavailable", "server-error", "truncated",
                            "malformed", "reset-before"])  # fmt: skip
    sim = zentao_sim(faults=plan)
    source = ZenTaoSource(settings(sim.url, retries=6))
    assert len(source.fetch_issues()) == 7
    assert sum(sim.faults_injected.values()) >= 5 and source.stats.retries >= 5


def test_reads_and_writes_zentao_refuses_are_mapped_to_clear_errors(zentao_sim):
    sim = zentao_sim(denied=("bug-view",))
    source = ZenTaoSource(settings(sim.url))
    with pytest.raises(TrackerError, match=r"HTTP 403 while .*zentao.account = 'bot' lacks a "
                       r"privilege \(Access not allowed\)"):  # fmt: skip
        source.fetch_issues()
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("x",))])
    assert outcome.error is not None and outcome.error.status == 403
    # Every session ends at once: the write signs in again, is refused again, and the
    # run stops there.
    sim = zentao_sim(expire_tokens_after=0)
    source = ZenTaoSource(settings(sim.url))
    with pytest.raises(TrackerError, match="HTTP 401 while writing bug-1, also after signing"):
        source.apply([Operation(LABELS, "bug-1", add=("x",))])
    with pytest.raises(TrackerError, match="HTTP 401 while reading the signed-in account"):
        source.identify()


def test_timeouts_cut_answers_and_broken_sign_ins_are_mapped_to_clear_errors(zentao_sim):
    slow = FaultPlan(seed=1, rate=1.0, kinds=["slow"], delay=1.0, endpoints=["GET *"])
    sim = zentao_sim(faults=slow)
    with pytest.raises(TrackerError, match=r"did not answer within zentao.timeout = 0.3s"):
        ZenTaoSource(settings(sim.url, timeout=0.3, retries=0)).identify()
    cut = FaultPlan(seed=1, rate=1.0, kinds=["malformed"], endpoints=["GET /api.php/v1/bugs/*"])
    sim = zentao_sim(faults=cut)
    source = ZenTaoSource(settings(sim.url, retries=0))
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("x",))])
    assert outcome.error is not None and "labels () failed" in str(outcome.error)
    with pytest.raises(TrackerError, match="unexpected answer from ZenTao while reading bug-1"):
        source.labels_of(["bug-1"])
    proxy = FaultPlan(seed=1, rate=1.0, kinds=["bad-gateway"], endpoints=["GET /api.php/v1/bugs/*"])
    sim = zentao_sim(faults=proxy)
    (outcome,) = ZenTaoSource(settings(sim.url, retries=0)).apply(
        [Operation(LABELS, "bug-1", add=("x",))]
    )
    assert outcome.error is not None and outcome.error.status == 502
    assert str(outcome.error).endswith("HTTP 502 on labels (): 502 Bad Gateway")
    token = FaultPlan(seed=1, rate=1.0, kinds=["malformed"], endpoints=["POST /api.php/v1/tokens"])
    sim = zentao_sim(faults=token)
    with pytest.raises(TrackerError, match="while signing in at .*/tokens: no token"):
        ZenTaoSource(settings(sim.url)).identify()
