"""Loading and validating simulator datasets (DATASET.md), and the records' write methods."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from jira_chase.simulator import Dataset, DatasetError, load_dataset
from tests.conftest import NOW, build_demo_like_dataset

UTC = timezone.utc


def _issue(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return next(issue for issue in doc["issues"] if issue["key"] == key)


# -- sources -------------------------------------------------------------------------------


def test_a_dict_json_text_and_a_path_load_the_same_dataset(tmp_path: Path) -> None:
    doc = build_demo_like_dataset()
    path = tmp_path / "data.json"
    path.write_text(json.dumps(doc))
    loaded = [
        load_dataset(doc),
        load_dataset(json.dumps(doc)),
        load_dataset(json.dumps(doc).encode()),
        load_dataset(path),
        load_dataset(str(path)),
    ]
    for dataset in loaded:
        assert list(dataset.issues) == [issue["key"] for issue in doc["issues"]]
        assert dataset.issues["APP-1"].status == "Code Review"
        assert [h.id for h in dataset.issues["APP-1"].histories] == [
            h.id for h in loaded[0].issues["APP-1"].histories
        ]


def test_a_dataset_is_returned_as_is_and_the_input_dict_is_not_changed() -> None:
    doc = build_demo_like_dataset()
    original = copy.deepcopy(doc)
    dataset = load_dataset(doc)
    assert load_dataset(dataset) is dataset
    assert doc == original


def test_a_missing_file_and_bad_json_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"dataset: cannot read .*nothing\.json"):
        load_dataset(tmp_path / "nothing.json")
    with pytest.raises(DatasetError, match="dataset: the given JSON is not valid JSON"):
        load_dataset('{"format": ')
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(DatasetError, match=r"dataset: .*bad\.json is not valid JSON"):
        load_dataset(bad)


# -- records -------------------------------------------------------------------------------


def test_issue_records_carry_the_dataset_values() -> None:
    dataset = load_dataset(build_demo_like_dataset())
    issue = dataset.issues["APP-1"]
    assert (issue.project, issue.number, issue.type, issue.priority) == (
        "APP",
        1,
        "Story",
        "Medium",
    )
    assert issue.labels == ["customer"]
    assert issue.fix_versions == ["Beta"]
    assert issue.parent == "APP-10"
    assert issue.estimate == 3
    assert issue.duedate.isoformat() == "2026-11-30"  # type: ignore[union-attr]
    assert [c.body for c in issue.comments] == [
        "Can we ship this before Beta?",
        "Waiting for OPS-7.\n\nThen yes.",
    ]
    # An offset other than UTC is kept as the same instant.
    assert dataset.issues["APP-10"].created == datetime(2026, 9, 20, 7, 0, tzinfo=UTC)
    assert dataset.now == NOW
    assert dataset.bot == "u-bot"
    assert dataset.user_by_email("ANN@example.com").id == "u-ann"  # type: ignore[union-attr]
    assert dataset.issue_by_id_or_key("app-1") is issue
    assert dataset.issue_by_id_or_key(issue.id) is issue


def test_ids_are_numeric_strings_unique_per_kind_and_stable_across_loads() -> None:
    first, second = load_dataset(build_demo_like_dataset()), load_dataset(build_demo_like_dataset())
    ids = [issue.id for issue in first.issues.values()]
    assert all(i.isdigit() for i in ids) and len(set(ids)) == len(ids)
    # History ids do not depend on which issue is read first.
    read_backwards = [h.id for i in reversed(list(second.issues.values())) for h in i.histories]
    read_forwards = [h.id for i in first.issues.values() for h in i.histories]
    assert sorted(read_backwards) == sorted(read_forwards)
    assert second.issues["APP-1"].histories[0].id == first.issues["APP-1"].histories[0].id
    history_ids = [h.id for issue in first.issues.values() for h in issue.histories]
    assert len(set(history_ids)) == len(history_ids)


def test_updated_defaults_to_the_latest_of_created_history_comments_and_links() -> None:
    dataset = load_dataset(build_demo_like_dataset())
    # APP-1: the last history entry is 10-09, the last comment 10-06, the link 10-20.
    assert dataset.issues["APP-1"].updated == datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    assert dataset.issues["APP-4"].updated == datetime(2026, 10, 9, 9, 0, tzinfo=UTC)
    assert dataset.issues["OPS-9"].updated == datetime(2026, 10, 2, 10, 0, tzinfo=UTC)
    assert dataset.issues["OPS-8"].updated == dataset.issues["OPS-8"].created


def test_an_explicit_updated_is_kept() -> None:
    doc = build_demo_like_dataset()
    _issue(doc, "APP-1")["updated"] = "2026-11-03T15:00:00Z"
    assert load_dataset(doc).issues["APP-1"].updated == datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


def test_changes_by_one_author_at_one_moment_form_one_history_entry() -> None:
    issue = load_dataset(build_demo_like_dataset()).issues["APP-2"]
    assert [[item.field for item in h.items] for h in issue.histories] == [
        ["status", "assignee"],
        ["labels"],
    ]
    assert issue.histories[0].by == "u-bob"


def test_a_link_is_seen_from_both_ends_with_a_link_history_entry_on_each() -> None:
    dataset = load_dataset(build_demo_like_dataset())
    app, ops = dataset.issues["APP-1"], dataset.issues["OPS-7"]
    (app_link,) = app.links
    (ops_link,) = ops.links
    assert (app_link.type, app_link.direction, app_link.key) == ("Blocks", "inward", "OPS-7")
    assert (ops_link.type, ops_link.direction, ops_link.key) == ("Blocks", "outward", "APP-1")
    assert app_link.id == ops_link.id
    app_items = [item for h in app.histories for item in h.items if item.field == "Link"]
    ops_items = [item for h in ops.histories for item in h.items if item.field == "Link"]
    assert [i.to_string for i in app_items] == ["This issue is blocked by OPS-7"]
    assert [i.to_string for i in ops_items] == ["This issue blocks APP-1"]
    # The Link entry sits in time order among the dataset's entries.
    assert [h.at for h in app.histories] == sorted(h.at for h in app.histories)
    # A link without "since" makes no history entry.
    assert not any(i.field == "Link" for h in dataset.issues["OPS-8"].histories for i in h.items)


def test_a_link_stated_on_both_ends_is_one_link() -> None:
    doc = build_demo_like_dataset()
    _issue(doc, "OPS-7")["links"] = [
        {"type": "Blocks", "direction": "outward", "key": "APP-1", "since": "2026-10-20T09:00:00Z"}
    ]
    dataset = load_dataset(doc)
    assert len(dataset.issues["APP-1"].links) == 1
    assert len(dataset.issues["OPS-7"].links) == 1


def test_an_issue_without_history_starts_in_its_status() -> None:
    issue = load_dataset(build_demo_like_dataset()).issues["APP-3"]
    assert issue.status == "To Do" and issue.histories == []


# -- rejected datasets -----------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], object]


def _set(key: str, field: str, value: Any) -> Mutation:
    return lambda doc: _issue(doc, key).__setitem__(field, value)


REJECTED: list[tuple[str, Mutation, str]] = [
    (
        "status disagrees with history",
        _set("APP-1", "status", "Done"),
        "dataset: issue APP-1: status 'Done' disagrees with the last status change to"
        " 'Code Review'",
    ),
    ("wrong format", lambda d: d.__setitem__("format", "v2"), "dataset: format must be"),
    (
        "unknown top-level key",
        lambda d: d.__setitem__("extra", 1),
        "top level: unknown key 'extra'",
    ),
    ("missing top-level key", lambda d: d.pop("users"), "top level: missing required key 'users'"),
    ("unknown issue key", _set("APP-2", "colour", "red"), "issue APP-2: unknown key 'colour'"),
    (
        "missing issue key",
        lambda d: _issue(d, "APP-2").pop("summary"),
        "issue APP-2: missing required key 'summary'",
    ),
    (
        "unknown history key",
        lambda d: _issue(d, "APP-2")["history"][0].__setitem__("why", "x"),
        "issue APP-2: history[0]: unknown key 'why'",
    ),
    (
        "unknown link key",
        lambda d: _issue(d, "APP-1")["links"][0].__setitem__("note", "x"),
        "issue APP-1: links[0]: unknown key 'note'",
    ),
    (
        "unknown comment key",
        lambda d: _issue(d, "APP-1")["comments"][0].__setitem__("likes", 3),
        "issue APP-1: comments[0]: unknown key 'likes'",
    ),
    (
        "unknown user key",
        lambda d: d["users"][0].__setitem__("role", "dev"),
        "users[0]: unknown key 'role'",
    ),
    ("time without offset", _set("APP-3", "created", "2026-10-10T09:00:00"), "has no UTC offset"),
    ("not a time", _set("APP-3", "created", "yesterday"), "issue APP-3: created: 'yesterday'"),
    (
        "history time without offset",
        lambda d: _issue(d, "APP-2")["history"][2].__setitem__("at", "2026-10-08T09:00:00"),
        "issue APP-2: history[2]: time '2026-10-08T09:00:00' has no UTC offset",
    ),
    ("bad date", _set("APP-1", "duedate", "30.11.2026"), "issue APP-1: duedate: expected a date"),
    ("datetime as date", _set("APP-1", "duedate", "2026-11-30T00:00:00Z"), "expected a date"),
    ("unknown project", _set("APP-3", "project", "WEB"), "key is in project 'APP' but 'project'"),
    ("undeclared status", _set("APP-3", "status", "Blocked"), "status 'Blocked' is not declared"),
    ("unknown assignee", _set("APP-3", "assignee", "u-zed"), "unknown user 'u-zed' in 'assignee'"),
    (
        "unknown history author",
        lambda d: _issue(d, "APP-2")["history"][0].__setitem__("by", "u-zed"),
        "issue APP-2: history[0]: unknown user 'u-zed' in 'by'",
    ),
    (
        "unknown user in an assignee change",
        lambda d: _issue(d, "APP-2")["history"][1].__setitem__("to", "u-zed"),
        "issue APP-2: history[1]: unknown user 'u-zed'",
    ),
    (
        "undeclared status in history",
        lambda d: _issue(d, "APP-4")["history"][2].__setitem__("to", "Shipped"),
        "issue APP-4: history[2]: status 'Shipped' is not declared",
    ),
    (
        "broken status chain",
        lambda d: _issue(d, "APP-4")["history"][1].__setitem__("from", "To Do"),
        "issue APP-4: history[1]: status change from 'To Do' does not follow the previous"
        " change to 'In Progress'",
    ),
    (
        "history not oldest first",
        lambda d: _issue(d, "APP-4")["history"].reverse(),
        "history is oldest first",
    ),
    (
        "history before creation",
        lambda d: _issue(d, "APP-4")["history"][0].__setitem__("at", "2026-09-01T00:00:00Z"),
        "before the issue's creation",
    ),
    ("duplicate key", lambda d: d["issues"].append(dict(_issue(d, "APP-3"))), "appears twice"),
    ("unknown parent", _set("APP-3", "parent", "APP-99"), "parent 'APP-99' is not in the dataset"),
    (
        "unknown linked issue",
        lambda d: _issue(d, "APP-1")["links"][0].__setitem__("key", "OPS-99"),
        "issue APP-1: links[0]: linked issue 'OPS-99' is not in the dataset",
    ),
    (
        "bad link direction",
        lambda d: _issue(d, "APP-1")["links"][0].__setitem__("direction", "up"),
        "direction must be 'inward' or 'outward'",
    ),
    ("label with a space", _set("APP-3", "labels", ["two words"]), "must be a word without spaces"),
    ("estimate not a number", _set("APP-3", "estimate", "5"), "estimate must be a number"),
    ("empty component", _set("APP-3", "components", [""]), "issue APP-3: component '' must be"),
    ("components not a list", _set("APP-3", "components", "Cart"), "components"),
    (
        "unknown resolution",
        _set("APP-3", "resolution", "Fixed"),
        "issue APP-3: resolution 'Fixed' is not one the simulated site has",
    ),
    ("flagged not a boolean", _set("APP-3", "flagged", "yes"), "flagged must be true or false"),
    ("bad status category", lambda d: d["statuses"][0].__setitem__("category", "todo"), "category"),
    ("unknown bot", lambda d: d.__setitem__("bot", "u-zed"), "bot 'u-zed' is not one of the users"),
    ("bad now", lambda d: d.__setitem__("now", "soon"), "dataset: now: 'soon'"),
    ("malformed key", _set("APP-3", "key", "APP3"), "a key is PROJECT-NUMBER"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [(m, s) for _, m, s in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_an_invalid_dataset_is_rejected_with_a_message_naming_the_place(
    mutate: Mutation, message: str
) -> None:
    doc = build_demo_like_dataset()
    mutate(doc)
    with pytest.raises(DatasetError) as raised:
        load_dataset(doc)
    assert message in str(raised.value)
    assert str(raised.value).startswith("dataset: ")


def test_optional_keys_may_be_omitted() -> None:
    doc = {
        "format": "jira-chase-dataset/1",
        "projects": [{"key": "APP", "name": "App"}],
        "users": [{"id": "u-ann", "name": "Ann"}],
        "statuses": [{"name": "To Do", "category": "new"}],
        "issues": [
            {
                "key": "APP-1",
                "project": "APP",
                "type": "Task",
                "summary": "s",
                "status": "To Do",
                "created": "2026-10-01T09:00:00Z",
            }
        ],
    }
    dataset = load_dataset(doc)
    issue = dataset.issues["APP-1"]
    assert (issue.assignee, issue.priority, issue.labels, issue.duedate) == (None, None, [], None)
    assert dataset.now is None and dataset.bot is None


# -- writes ------------------------------------------------------------------------------------


def test_set_labels_records_a_history_entry_and_moves_updated() -> None:
    dataset: Dataset = load_dataset(build_demo_like_dataset())
    issue = dataset.issues["APP-2"]
    before = len(issue.histories)
    entry = dataset.set_labels(issue, ["needs-design", "chase-late"], "u-bot", NOW)
    assert entry is not None
    assert issue.labels == ["needs-design", "chase-late"]
    assert issue.updated == NOW
    assert issue.histories[-1] is entry and len(issue.histories) == before + 1
    (item,) = entry.items
    assert (item.field, item.from_value, item.to_value) == (
        "labels",
        "needs-design chase-stale",
        "needs-design chase-late",
    )
    assert dataset.set_labels(issue, ["needs-design", "chase-late"], "u-bot", NOW) is None
    assert len(issue.histories) == before + 1


def test_a_write_behind_the_data_keeps_history_sorted() -> None:
    dataset = load_dataset(build_demo_like_dataset())
    issue = dataset.issues["APP-1"]
    early = datetime(2026, 10, 3, tzinfo=UTC)
    dataset.set_labels(issue, [], "u-bot", early)
    assert [h.at for h in issue.histories] == sorted(h.at for h in issue.histories)


def test_comments_can_be_added_edited_and_deleted() -> None:
    dataset = load_dataset(build_demo_like_dataset())
    issue = dataset.issues["APP-3"]
    comment = dataset.add_comment(issue, "u-bot", {"type": "doc"}, NOW, {"chase": {"v": 1}})
    assert dataset.comment_by_id(comment.id) == (issue, comment)
    later = datetime(2026, 11, 6, tzinfo=UTC)
    dataset.edit_comment(issue, comment, "u-bot", later, "new body")
    assert (comment.body, comment.updated, comment.properties) == (
        "new body",
        later,
        {"chase": {"v": 1}},
    )
    assert issue.updated == later
    dataset.delete_comment(issue, comment, later)
    assert issue.comments == [] and dataset.comment_by_id(comment.id) is None
