"""The managed comment as a ZenTao remark, against the ZenTao simulator over real
sockets."""

from __future__ import annotations

from typing import Any

import requests

from jira_chase.engine.comment import (
    FORMAT_VERSION,
    RECOVERED,
    CommentDoc,
    CommentItem,
    parse_zentao_marker,
)
from jira_chase.engine.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, Operation
from jira_chase.errors import IssueError
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.zentao import ZenTaoSimulator
from jira_chase.sources.zentao.source import ZenTaoSource
from tests.sources.zentao.conftest import settings


def doc(digest: str = "d1", summary: str = "Checkout page") -> CommentDoc:
    item = CommentItem("warn", "stuck", "in review since 2026-11-17 (3 days; limit 2 days)", None)
    return CommentDoc(f"jira-chase: {summary} is at risk", (item,), "As of now.", digest)


def bot_remarks(sim: ZenTaoSimulator, key: str) -> list[dict[str, Any]]:
    return [c for c in sim.comments(key) if c["actor"] == "bot"]


def test_comment_is_created_found_edited_in_place_and_withdrawn(zentao_sim):
    sim = zentao_sim()
    source = ZenTaoSource(settings(sim.url))
    key = sim.key_of("APP-1")
    (created,) = source.apply([Operation(COMMENT_CREATE, key, comment=doc("aaa"))])
    assert created.error is None and created.comment_id
    (remark,) = bot_remarks(sim, key)
    assert parse_zentao_marker(remark["comment"]) == (FORMAT_VERSION, "aaa")
    # Another run with the same state (the secret that seals the marker) finds it...
    again = ZenTaoSource(settings(sim.url))
    again.use_memory(source.memory)
    found = again.find_managed_comment(key)
    assert found is not None and (found.comment_id, found.digest) == (created.comment_id, "aaa")
    # ... one with a lost state finds it by its account, its content to be rewritten.
    found = ZenTaoSource(settings(sim.url)).find_managed_comment(key)
    assert found is not None and (found.comment_id, found.digest) == (created.comment_id, "")
    (updated,) = source.apply([Operation(COMMENT_UPDATE, key, comment=doc("bbb"),
                                         comment_id=created.comment_id)])  # fmt: skip
    assert updated.error is None and updated.comment_id == created.comment_id
    (remark,) = bot_remarks(sim, key)
    assert parse_zentao_marker(remark["comment"]) == (FORMAT_VERSION, "bbb")
    (deleted,) = source.apply([Operation(COMMENT_DELETE, key, comment_id=created.comment_id)])
    assert deleted.error is None
    (remark,) = bot_remarks(sim, key)  # ZenTao cannot delete: rewritten to a short note
    assert parse_zentao_marker(remark["comment"]) == (FORMAT_VERSION, RECOVERED)
    assert "back on track" in remark["comment"]


def test_create_after_a_lost_record_reuses_the_comment(zentao_sim):
    sim = zentao_sim()
    key = sim.key_of("APP-1")
    first = ZenTaoSource(settings(sim.url)).apply([Operation(COMMENT_CREATE, key, comment=doc())])
    # a run died before recording it: the next run creates again
    again = ZenTaoSource(settings(sim.url)).apply([Operation(COMMENT_CREATE, key, comment=doc())])
    assert again[0].comment_id == first[0].comment_id and len(bot_remarks(sim, key)) == 1


def test_a_lost_answer_to_the_comment_post_never_duplicates_it(zentao_sim):
    plan = FaultPlan(seed=1, rate=1.0, kinds=["reset-after"], endpoints=["POST /index.php"])
    sim = zentao_sim(faults=plan)
    source = ZenTaoSource(settings(sim.url))
    (outcome,) = source.apply([Operation(COMMENT_CREATE, "story-1", comment=doc())])
    assert outcome.error is None and len(bot_remarks(sim, "story-1")) == 1


def test_a_session_lost_before_the_comment_post_is_renewed(zentao_sim):
    # Each session serves two requests: the look before posting is the second, so the
    # post itself meets the login page (and does nothing): it signs in and posts again.
    sim = zentao_sim(expire_tokens_after=2)
    source = ZenTaoSource(settings(sim.url))
    source.identify()
    (outcome,) = source.apply([Operation(COMMENT_CREATE, "story-1", comment=doc())])
    assert outcome.error is None and len(bot_remarks(sim, "story-1")) == 1
    assert source.logins >= 2


def test_someone_elses_tagged_remark_never_counts(zentao_sim):
    sim = zentao_sim()
    answer = requests.post(f"{sim.url}/api.php/v1/tokens", json={"account": "ann", "password": "x"})
    params = {"m": "action", "f": "comment", "objectType": "story", "objectID": 1,
              "zentaosid": answer.json()["token"]}  # fmt: skip
    requests.post(f"{sim.url}/index.php", params=params, data={"comment": "[jira-chase:1:x]"})
    assert ZenTaoSource(settings(sim.url)).find_managed_comment("story-1") is None


def test_issue_text_is_escaped_and_cannot_forge_the_marker(zentao_sim):
    sim = zentao_sim()
    hostile = "[jira-chase:1:forged] <b>bold</b> <script>x</script>"
    source = ZenTaoSource(settings(sim.url))
    (outcome,) = source.apply([Operation(COMMENT_CREATE, "story-1", comment=doc("real", hostile))])
    (remark,) = bot_remarks(sim, "story-1")
    assert "&lt;b&gt;bold&lt;/b&gt;" in remark["comment"] and "<script>" not in remark["comment"]
    assert parse_zentao_marker(remark["comment"]) == (FORMAT_VERSION, "real")


def test_an_edit_of_a_vanished_comment_is_a_404(zentao_sim):
    sim = zentao_sim()
    source = ZenTaoSource(settings(sim.url))
    (outcome,) = source.apply(
        [Operation(COMMENT_UPDATE, "story-1", comment=doc(), comment_id="9999")]
    )
    assert isinstance(outcome.error, IssueError) and outcome.error.status == 404


def test_an_edit_never_touches_a_remark_of_another_account(zentao_sim):
    # ZenTao edits any remark by its id: a comment id that is not the bot's (a state file
    # from a version that trusted realnames) must not be written through.
    sim = zentao_sim()
    answer = requests.post(f"{sim.url}/api.php/v1/tokens", json={"account": "ann", "password": "x"})
    params = {"m": "action", "f": "comment", "objectType": "story", "objectID": 1,
              "zentaosid": answer.json()["token"]}  # fmt: skip
    requests.post(f"{sim.url}/index.php", params=params, data={"comment": "[jira-chase:2:x] ok"})
    (theirs,) = [c for c in sim.comments("story-1") if "jira-chase" in c["comment"]]
    (outcome,) = ZenTaoSource(settings(sim.url)).apply(
        [Operation(COMMENT_UPDATE, "story-1", comment=doc(), comment_id=str(theirs["id"]))]
    )
    assert isinstance(outcome.error, IssueError) and outcome.error.status == 404
    assert [c for c in sim.comments("story-1") if "jira-chase" in c["comment"]] == [theirs]
