"""The ZenTao source's answers fixed by ZenTao: its states per item type."""

from __future__ import annotations

import pytest

from jira_chase.sources.zentao.source import ZenTaoSource
from tests.sources.zentao.conftest import settings


def test_statuses_qualified_by_type_decide_for_that_type_alone():
    from jira_chase.config.settings import WorkflowSettings
    from jira_chase.engine.timeline import StepMap

    workflow = WorkflowSettings(
        done=["closed", "task:done"],
        steps=[{"name": "fix", "statuses": ["bug:active"]},
               {"name": "build", "statuses": ["Doing", "active"]}],
    )  # fmt: skip
    steps = StepMap.from_settings(workflow)
    assert steps.step("active", "Bug") == "fix" and steps.step("ACTIVE", "bug") == "fix"
    assert steps.step("active", "Story") == "build" and steps.step("active") == "build"
    assert steps.is_done("done", "Task") and not steps.is_done("done", "Story")
    assert steps.is_done("closed", "Bug") and steps.step("doing", "Task") == "build"
    with pytest.raises(ValueError, match="must be a name or type:name"):
        WorkflowSettings(done=["closed"], steps=[{"name": "x", "statuses": [":active"]}])
    with pytest.raises(ValueError, match="is in both step 'a' and 'b'"):
        WorkflowSettings(done=["x"], steps=[{"name": "a", "statuses": ["bug:active"]},
                                            {"name": "b", "statuses": ["Bug:Active"]}])  # fmt: skip


def test_known_names_are_zentaos_states_per_type(zentao_sim):
    source = ZenTaoSource(settings(zentao_sim().url))
    names = source.known_names()
    assert names.typed
    assert {"task:cancel", "story:developing", "bug:resolved", "closed"} <= set(names.statuses)
    assert "bug:developing" not in names.statuses
    assert {"willnotdo", "duplicate", "fixed", "done"} <= set(source.known_resolutions())
