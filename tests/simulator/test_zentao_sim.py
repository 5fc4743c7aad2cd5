"""The ZenTao simulator over real sockets: ZenTao's shapes, quirks and gotchas."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import pytest
import requests

from jira_chase.simulator.dataset import DatasetError
from jira_chase.simulator.zentao import ZenTaoSimulator, strip_tags
from tests.conftest import build_demo_like_dataset

API = "/api.php/v1"


def sign_in(sim: ZenTaoSimulator, account: str = "ann", password: str = "pw") -> requests.Session:
    answer = requests.post(
        f"{sim.url}{API}/tokens", json={"account": account, "password": password}
    )
    assert answer.status_code == 201, answer.text
    session = requests.Session()
    session.headers["Token"] = answer.json()["token"]
    return session


def get(sim: ZenTaoSimulator, http: requests.Session, path: str, **params: Any) -> Any:
    answer = http.get(f"{sim.url}{API}{path}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_accounts_come_from_emails_and_tokens_are_sessions(zentao_sim):
    sim = zentao_sim()
    assert sim.account_of("u-ann") == "ann" and sim.account_of("u-bot") == "bot"
    answer = requests.post(f"{sim.url}{API}/tokens", json={"account": "ann", "password": "x"})
    assert answer.status_code == 201 and answer.json()["token"]
    assert "zentaosid=" in answer.headers["Set-Cookie"]
    for headers in ({}, {"Token": "nope"}):
        denied = requests.get(f"{sim.url}{API}/user", headers=headers)
        assert (denied.status_code, denied.json()) == (401, {"error": "Unauthorized"})
    http = sign_in(sim)
    profile = get(sim, http, "/user")["profile"]
    assert (profile["account"], profile["realname"]) == ("ann", "Ann Lee")
    # ?zentaosid= works as well as the header
    token = http.headers["Token"]
    assert requests.get(f"{sim.url}{API}/user", params={"zentaosid": token}).status_code == 200


def test_wrong_password_warns_and_locks_after_six_failures(zentao_sim):
    sim = zentao_sim(credentials={"ann": "right"})
    for left in range(5, -1, -1):
        answer = requests.post(f"{sim.url}{API}/tokens", json={"account": "ann", "password": "x"})
        assert answer.status_code == 400
        assert f"You have {left} more chances" in answer.json()["error"]
    locked = requests.post(f"{sim.url}{API}/tokens", json={"account": "ann", "password": "right"})
    assert locked.status_code == 400 and "locked" in locked.json()["error"]


def test_tokens_expire_on_demand_and_after_n_requests(zentao_sim):
    sim = zentao_sim(expire_tokens_after=2)
    http = sign_in(sim)
    assert [http.get(f"{sim.url}{API}/user").status_code for _ in range(3)] == [200, 200, 401]
    http = sign_in(sim)
    sim.expire_tokens()
    assert http.get(f"{sim.url}{API}/user").status_code == 401


def test_story_browse_types_are_the_real_quirks(zentao_sim):
    sim = zentao_sim()
    http = sign_in(sim)
    everything = get(sim, http, "/products/1/stories", status="allstory")
    assert set(everything) == {"page", "total", "limit", "stories"}
    assert everything["total"] == 5  # APP-1, APP-3, APP-5, APP-10 (an Epic), APP-11
    assert get(sim, http, "/products/1/stories", status="all")["total"] == 0
    unclosed = get(sim, http, "/products/1/stories")  # default: unclosed
    assert unclosed["total"] == 4 and all(s["status"] != "closed" for s in unclosed["stories"])
    assert unclosed["limit"] == 500
    page = get(sim, http, "/products/1/stories", status="allstory", limit=2, page=3)
    assert (page["page"], page["limit"], page["total"], len(page["stories"])) == (3, 2, 5, 1)


def test_bugs_hide_closed_ones_unless_asked_for_all_and_tasks_list_all(zentao_sim):
    sim = zentao_sim()
    http = sign_in(sim)
    assert get(sim, http, "/products/2/bugs")["limit"] == 20
    assert get(sim, http, "/products/2/bugs", status="all")["total"] == 1
    tasks = get(sim, http, "/executions/1/tasks")
    assert [t["name"] for t in tasks["tasks"]] == ["Payment provider contract"]
    assert tasks["tasks"][0]["status"] == "closed"


def test_item_shapes_utc_top_level_and_local_actions_by_realname(zentao_sim):
    sim = zentao_sim(server_timezone="Asia/Shanghai")
    http = sign_in(sim)
    key = sim.key_of("APP-2")
    assert key == "bug-1"
    bug = get(sim, http, "/bugs/1")
    assert bug["openedDate"] == "2026-10-03T09:00:00Z"
    assert bug["assignedTo"] == {"id": 2, "account": "bob", "avatar": "", "realname": "Bob Stone"}
    assert bug["keywords"] == "needs-design,chase-stale" and bug["status"] == "active"
    assigned = next(a for a in bug["actions"] if a["action"] == "assigned")
    # 2026-10-04 09:00 UTC is 17:00 in Shanghai; the actor is a realname.
    assert (assigned["date"], assigned["actor"]) == ("2026-10-04 17:00:00", "Bob Stone")
    assert assigned["history"][0]["field"] == "assignedTo"
    edited = next(a for a in bug["actions"] if a["action"] == "edited")
    assert {h["field"]: (h["old"], h["new"]) for h in edited["history"]} == {
        "keywords": ("needs-design", "needs-design,chase-stale")
    }


def test_status_history_follows_the_default_mapping(zentao_sim):
    sim = zentao_sim()
    http = sign_in(sim)
    task = get(sim, http, f"/tasks/{sim.item('APP-4').id}")
    moves = [(a["action"], h["old"], h["new"]) for a in task["actions"] for h in a["history"]]
    # To Do -> In Progress -> Code Review -> Done
    assert moves == [("started", "wait", "doing"), ("finished", "doing", "done"),
                     ("closed", "done", "closed")]  # fmt: skip
    story = get(sim, http, f"/stories/{sim.item('APP-1').id}")
    assert (story["status"], story["stage"]) == ("active", "developed")  # Code Review
    stages = [h["new"] for a in story["actions"] for h in a["history"] if h["field"] == "stage"]
    assert stages[:3] == ["developing", "developed", "developing"]


def test_dataset_key_states_zentao_values_and_bad_ones_are_rejected(zentao_sim):
    data = build_demo_like_dataset()
    data["statuses"][2]["zentao"] = {"story": "testing", "task": "pause", "bug": "active"}
    sim = zentao_sim(data)
    assert (sim.item("APP-1").status, sim.item("APP-1").stage) == ("active", "testing")
    data["statuses"][2]["zentao"] = {"bug": "fixed"}
    with pytest.raises(DatasetError, match="status 'Code Review'.*zentao.bug must be one of"):
        ZenTaoSimulator(data)
    data["statuses"][2]["zentao"] = {"epic": "active"}
    with pytest.raises(DatasetError, match="unknown key zentao.epic"):
        ZenTaoSimulator(data)


def test_keywords_edit_is_logged_and_story_in_review_needs_its_reviewer(zentao_sim):
    sim = zentao_sim(status_map={"To Do": {"story": "reviewing"}})
    http = sign_in(sim)
    story = sim.item("APP-3")
    assert story.status == "reviewing"
    url = f"{sim.url}{API}/stories/{story.id}"
    refused = http.put(url, json={"keywords": "chase-late"})
    assert refused.status_code == 400 and "reviewer" in refused.json()["error"]
    assert story.keywords == ""
    done = http.put(url, json={"keywords": "chase-late", "reviewer": story.reviewer})
    assert done.status_code == 200 and done.json()["keywords"] == "chase-late"
    last = story.actions[-1]
    assert (last.action, last.actor, last.history[0].field) == ("edited", "ann", "keywords")
    assert done.json()["lastEditedDate"] == sim.utc(last.date)
    # the same value again changes nothing
    assert http.put(url, json={"keywords": "chase-late", "reviewer": ["x"]}).status_code == 200
    assert story.actions[-1] is last
    long = http.put(url, json={"keywords": "x" * 256, "reviewer": ["ann"]})
    assert long.status_code == 400 and "keywords" in long.json()["error"]


def test_remarks_go_through_the_web_endpoint_and_answer_html(zentao_sim):
    sim = zentao_sim()
    http = sign_in(sim, "bot")
    token = http.headers["Token"]
    item = sim.item("APP-3")
    before = item.last_edited
    params = {"m": "action", "f": "comment", "objectType": "story", "objectID": item.id}
    remark_html = "<p>hi</p><!-- hidden --><script>x()</script>"
    answer = requests.post(
        f"{sim.url}/index.php", params={**params, "zentaosid": token}, data={"comment": remark_html}
    )
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    (remark,) = [c for c in sim.comments("APP-3") if c["actor"] == "bot"]
    assert remark["comment"] == "<p>hi</p>"
    assert item.last_edited == before  # a remark is not an edit
    # an unknown session changes nothing and gets the login page
    lost = requests.post(f"{sim.url}/index.php", params={**params, "zentaosid": "gone"},
                         data={"comment": "again"})  # fmt: skip
    assert "user&f=login" in lost.text and len(sim.comments("APP-3")) == 1
    edit = {"m": "action", "f": "editComment", "actionID": remark["id"], "zentaosid": token}
    requests.post(f"{sim.url}/index.php", params=edit, data={"lastComment": "<p>edited</p>"})
    (edited,) = sim.comments("APP-3")
    assert edited["id"] == remark["id"] and edited["comment"] == "<p>edited</p>"
    assert edited["date"] >= remark["date"]
    requests.post(f"{sim.url}/index.php", params=edit, data={"lastComment": "<!-- -->"})
    assert sim.comments("APP-3")[0]["comment"] == "<p>edited</p>"  # empty edits are refused


def test_the_rest_api_names_a_remarks_actor_by_realname_the_page_data_by_account(zentao_sim):
    sim = zentao_sim()
    http = sign_in(sim, "bot")
    item = sim.item("APP-3")
    params = {"m": "action", "f": "comment", "objectType": "story", "objectID": item.id,
              "zentaosid": http.headers["Token"]}  # fmt: skip
    requests.post(f"{sim.url}/index.php", params=params, data={"comment": "<p>hi</p>"})
    actions = get(sim, http, f"/stories/{item.id}")["actions"]
    (rest,) = [a for a in actions if a["action"] == "commented"]
    assert rest["actor"] == sim.realname("bot") != "bot"
    view = {"m": "story", "f": "view", "storyID": item.id, "t": "json"}
    answer = requests.get(f"{sim.url}/index.php",
                          params={**view, "zentaosid": http.headers["Token"]})  # fmt: skip
    outer = answer.json()
    assert outer["status"] == "success" and isinstance(outer["data"], str)
    page = json.loads(outer["data"])
    assert page["actions"][str(rest["id"])]["actor"] == "bot"  # keyed by id, as PHP encodes
    assert page["users"]["bot"] == rest["actor"]
    lost = requests.get(f"{sim.url}/index.php", params={**view, "zentaosid": "gone"})
    assert "user&f=login" in lost.text


def test_no_rest_comments_unknown_routes_and_hidden_users(zentao_sim):
    sim = zentao_sim(users_visible=False)
    http = sign_in(sim)
    assert http.get(f"{sim.url}{API}/comments").status_code == 500
    missing = http.get(f"{sim.url}{API}/actions")
    assert missing.status_code == 404 and "error" in missing.json()
    assert http.get(f"{sim.url}{API}/stories/999").status_code == 404
    users = http.get(f"{sim.url}{API}/users")
    assert users.status_code == 400 and "company-browse" in users.json()["error"]


def test_users_list_and_version(zentao_sim):
    sim = zentao_sim()
    http = sign_in(sim)
    users = get(sim, http, "/users", limit=100)
    assert {u["account"] for u in users["users"]} == {"ann", "bob", "cat", "bot"}
    config = requests.get(f"{sim.url}/index.php", params={"mode": "getconfig"}).json()
    assert config["version"] == "18.8" and config["sessionVar"] == "zentaosid"


def test_strip_tags_keeps_zentaos_allowed_tags_only():
    text = '<p><span style="color:#999">[x]</span></p><!-- y --><iframe>z</iframe><code>c</code>'
    assert strip_tags(text) == '<p><span style="color:#999">[x]</span></p>zc'


def test_clock_drives_the_dates_of_writes(zentao_sim):
    moment = datetime(2026, 11, 6, 8, 30, tzinfo=timezone.utc)
    sim = zentao_sim(clock=lambda: moment)
    http = sign_in(sim)
    http.put(f"{sim.url}{API}/bugs/1", json={"keywords": "x"})
    assert get(sim, http, "/bugs/1")["lastEditedDate"] == "2026-11-06T08:30:00Z"


# -- ZenTao 18.8's edit semantics ----------------------------------------------------------

UTC = timezone.utc
#: A closed bug with everything a keywords-only REST PUT loses.
CLOSED_BUG = {
    "status": "closed",
    "assignedTo": "closed",
    "deadline": date(2026, 12, 31),
    "os": "windows,linux",
    "browser": "chrome",
    "resolution": "fixed",
    "resolvedBy": "ann",
    "resolvedDate": datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
    "closedBy": "ann",
    "closedDate": datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
    "story": 1,
    "linkBug": "2",
}


def test_a_keywords_only_put_on_a_bug_loses_what_18_8_loses(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("bug-1", **CLOSED_BUG)
    http = sign_in(sim)
    answer = http.put(f"{sim.url}{API}/bugs/1", json={"keywords": "x", "deadline": "2026-12-31"})
    assert answer.status_code == 200
    row, now = sim.stored("bug-1"), sim.now()
    assert (row["keywords"], row["story"], row["status"]) == ("x", 1, "closed")
    assert (row["deadline"], row["os"], row["browser"], row["linkBug"]) == (None, "", "", "")
    assert row["resolvedDate"] == now and row["closedDate"] == now
    assert answer.json()["deadline"] is None and answer.json()["os"] == ""
    logged = {h.field: (h.old, h.new) for h in sim.item("bug-1").actions[-1].history}
    assert logged["deadline"] == ("2026-12-31", "0000-00-00")
    assert logged["linkBug"] == ("2", "") and set(logged) >= {"keywords", "os", "browser"}
    # A bug that was never linked logs the `linkBug 0 -> ''` seen on a real 18.8.
    http.put(f"{sim.url}{API}/bugs/2", json={"keywords": "y"})
    assert [(h.field, h.old, h.new) for h in sim.item("bug-2").actions[-1].history
            if h.field == "linkBug"] == [("linkBug", "0", "")]  # fmt: skip


def test_a_put_on_a_duplicate_bug_answers_200_and_keeps_nothing(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("bug-1", status="resolved", resolution="duplicate", duplicateBug=2,
                   resolvedBy="ann", resolvedDate=datetime(2026, 11, 2, tzinfo=UTC))  # fmt: skip
    before, actions = sim.stored("bug-1"), len(sim.item("bug-1").actions)
    answer = sign_in(sim).put(f"{sim.url}{API}/bugs/1", json={"keywords": "x"})
    assert answer.status_code == 200 and answer.json()["keywords"] == before["keywords"]
    assert sim.stored("bug-1") == before and len(sim.item("bug-1").actions) == actions


def test_a_story_put_drops_its_links_and_moves_its_assigned_date(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("story-1", linkStories="3,4", mailto="bob")
    before = sim.stored("story-1")
    answer = sign_in(sim).put(f"{sim.url}{API}/stories/1", json={"keywords": "x"})
    assert answer.status_code == 200
    row = sim.stored("story-1")
    assert row["linkStories"] == "" and row["assignedDate"] == sim.now() != before["assignedDate"]
    assert row["mailto"] == "bob"  # the PUT copies mailto from the stored story
    fields = [h.field for h in sim.item("story-1").actions[-1].history]
    assert fields == ["keywords", "linkStories"]  # assignedDate is never logged


def batch_form(sim: ZenTaoSimulator, number: int, **override: Any) -> list[tuple[str, str]]:
    row = sim.stored(f"bug-{number}")
    n = str(number)
    values = {"titles": row["title"], "types": row["type"], "severities": row["severity"],
              "pris": row["pri"], "colors": row["color"], "plans": row["plan"],
              "modules": row["module"], "assignedTos": row["assignedTo"],
              "deadlines": row["deadline"].isoformat() if row["deadline"] else "0000-00-00",
              "resolvedBys": row["resolvedBy"], "keywords": row["keywords"],
              "resolutions": row["resolution"], "duplicateBugs": row["duplicateBug"],
              **override}  # fmt: skip
    form = [(f"bugIDList[{n}]", n)] + [(f"{k}[{n}]", str(v)) for k, v in values.items()]
    form += [(f"os[{n}][]", v) for v in row["os"].split(",")]
    return form + [(f"browsers[{n}][]", v) for v in row["browser"].split(",")]


def test_the_bug_batch_edit_writes_its_fields_and_keeps_the_rest(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("bug-1", **CLOSED_BUG)
    token = sign_in(sim, "bot").headers["Token"]
    url = f"{sim.url}/index.php"
    params = {"m": "bug", "f": "batchEdit", "productID": 1, "zentaosid": token}
    before = sim.stored("bug-1")
    answer = requests.post(url, params=params, data=batch_form(sim, 1, keywords="a&b"))
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    after = sim.stored("bug-1")
    assert after["keywords"] == "a&amp;b"  # stored HTML-escaped, as ZenTao does
    assert {k: v for k, v in after.items() if k != "keywords"} == {
        k: v for k, v in before.items() if k != "keywords"
    }
    assert [h.field for h in sim.item("bug-1").actions[-1].history] == ["keywords"]
    # Without its OS rows PHP stops with a TypeError; without a session, the login page.
    broken = [p for p in batch_form(sim, 1) if not p[0].startswith("os[")]
    assert requests.post(url, params=params, data=broken).status_code == 500
    lost = requests.post(url, params={**params, "zentaosid": "gone"}, data=batch_form(sim, 1))
    assert "f=login" in lost.text
    # No titles: the form is only shown; a missing bug is a fatal error.
    assert requests.post(url, params=params, data={"x": "1"}).status_code == 200
    missing = [("bugIDList[99]", "99"), ("titles[99]", "x")]
    assert requests.post(url, params=params, data=missing).status_code == 500
    assert sim.stored("bug-1") == after


def test_the_batch_edit_refuses_a_duplicate_that_names_no_bug(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("bug-1", status="resolved", resolution="duplicate", duplicateBug=0)
    token = sign_in(sim, "bot").headers["Token"]
    params = {"m": "bug", "f": "batchEdit", "productID": 1, "zentaosid": token}
    answer = requests.post(f"{sim.url}/index.php", params=params,
                           data=batch_form(sim, 1, keywords="x"))  # fmt: skip
    assert "Duplicate ID" in answer.text and sim.keywords("bug-1") != "x"
    sim.set_fields("bug-1", duplicateBug=2)
    requests.post(f"{sim.url}/index.php", params=params, data=batch_form(sim, 1, keywords="x"))
    assert sim.keywords("bug-1") == "x"


def test_the_story_edit_form_resets_what_is_not_posted(zentao_sim):
    sim = zentao_sim(status_map={"To Do": {"story": "draft"}})
    token = sign_in(sim, "bot").headers["Token"]
    params = {"m": "story", "f": "edit", "storyID": 2, "zentaosid": token}
    url = f"{sim.url}/index.php"
    refused = requests.post(url, params=params, data={"keywords": "x"})
    assert "Reviewer" in refused.text and sim.keywords("story-2") == ""
    # A plan as the first posted element moves a story in `wait` to `planned`.
    requests.post(url, params=params, data=[("keywords", "x"), ("reviewer[]", "ann"),
                                            ("plan[]", "1"), ("assignedTo", "")])  # fmt: skip
    row = sim.stored("story-2")
    assert (row["keywords"], row["stage"], row["plan"]) == ("x", "planned", "1")
    assert requests.post(url, params={**params, "storyID": 99}, data={}).status_code == 200
    denied = zentao_sim(denied=("story-edit",))
    token = sign_in(denied, "bot").headers["Token"]
    answer = requests.post(
        f"{denied.url}/index.php", params={**params, "zentaosid": token}, data={"keywords": "x"}
    )
    assert "no permission" in answer.text and denied.keywords("story-2") == ""
