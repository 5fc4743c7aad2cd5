"""Keywords as labels: the text edits that touch only our tokens."""

from __future__ import annotations

from jira_chase.sources.zentao.items import edit_keywords, keyword_tokens


def test_edit_keywords_touches_only_the_named_tokens():
    assert edit_keywords("customer, chase-stale", ["chase-at-risk"], ["chase-stale"]) == (
        "customer, chase-at-risk"
    )
    assert edit_keywords("a b", ["chase-x"], []) == "a b chase-x"
    assert edit_keywords("", ["chase-x", "chase-y"], []) == "chase-x,chase-y"
    assert edit_keywords("chase-X,keep", [], ["chase-x"]) == "keep"
    assert edit_keywords("keep,", ["chase-x"], []) == "keep,chase-x"
    assert edit_keywords("a，b", ["chase-x"], ["a"]) == "b，chase-x"
    assert keyword_tokens("a, b；c d") == ["a", "b", "c", "d"]
