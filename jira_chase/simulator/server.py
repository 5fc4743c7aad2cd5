"""The Jira simulator: a real threaded HTTP server over a simulator dataset.

The layers, so that other flavours and trackers reuse the machinery:

- :mod:`.http`: tracker-neutral HTTP machinery (``Request``, ``Response``, ``ApiError``,
  ``Router``, ``SimulatorServer`` with request counting, latency and fault injection);
- :mod:`.faults`: the seeded fault schedule (``FaultPlan``) and what each kind does;
- :mod:`.jira_json`: how Jira Cloud and Data Center show the dataset's records;
- :mod:`.jira_common`, :mod:`.jira_cloud`, :mod:`.jira_dc`: the endpoints, with Jira's
  paging, limits, permissions and error bodies, per deployment.

:class:`JiraSimulator` puts them together; :func:`run` serves one until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from jira_chase.simulator.dataset import History, Issue, load_dataset
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.http import (
    ApiError,
    ExchangeListener,
    Request,
    Response,
    Router,
    SimulatorServer,
)
from jira_chase.simulator.jira_cloud import JiraCloudApi
from jira_chase.simulator.jira_common import Clock, JiraApi
from jira_chase.simulator.jira_dc import SEARCH_MAX_RESULTS, JiraDcApi
from jira_chase.simulator.jira_json import (
    FieldSelection,
    JiraDcJson,
    JiraJson,
    adf_to_text,
    jira_time,
    text_to_adf,
)

__all__ = [
    "DEPLOYMENTS",
    "ApiError",
    "FieldSelection",
    "JiraCloudApi",
    "JiraDcApi",
    "JiraDcJson",
    "JiraJson",
    "JiraSimulator",
    "Request",
    "Response",
    "Router",
    "SimulatorServer",
    "adf_to_text",
    "dataset_clock",
    "jira_time",
    "run",
    "text_to_adf",
]

#: The deployments a :class:`JiraSimulator` can play.
DEPLOYMENTS = ("cloud", "datacenter")


def dataset_clock(dataset_now: datetime | None) -> Clock:
    """The default clock: ``dataset_now`` plus the real time elapsed since this call.

    Without a dataset ``now``, the real UTC time.
    """
    if dataset_now is None:
        return lambda: datetime.now(timezone.utc)
    started = time.monotonic()
    return lambda: dataset_now + timedelta(seconds=time.monotonic() - started)


class JiraSimulator(SimulatorServer):
    """A Jira site over a dataset, served over HTTP on a free loopback port.

    - ``dataset``: a :class:`Dataset` (used as is, and edited by writes) or anything
      :func:`load_dataset` takes.
    - ``deployment``: ``"cloud"`` (REST v3 and v2, see :mod:`.jira_cloud`) or
      ``"datacenter"`` (Jira DC 10.3, REST v2, see :mod:`.jira_dc`).
    - ``clock`` returns an aware datetime; by default the dataset's ``now`` plus the time
      elapsed since construction (real UTC time without one).
    - ``credentials``: login -> secret; when given, secrets are checked (Cloud: email ->
      API token; Data Center: username or email -> password). ``tokens`` (Data Center):
      personal access token -> user id. Without either, any secret of a known user is
      accepted (and a PAT signs in as the dataset's ``bot``).
    - ``faults``: a :class:`FaultPlan` to inject faults from; ``latency``: seconds added
      to every request.
    - ``max_results_cap`` (Data Center): the most issues one search page holds;
      ``search_window``: paging past it fails, as on a search platform with a result
      window (None: no window); ``max_results_limit`` (Data Center): a larger
      ``maxResults`` is refused with a 400 naming the limit, not capped.
    - ``changelog``: False serves no change history at all (every changelog is empty),
      as a site does when the account may not see history or a proxy strips it.
    - ``comment_delete_touches``: False leaves an issue's ``updated`` as it was when one
      of its comments is deleted, as some sites do: only a full read then sees it.
    """

    def __init__(
        self,
        dataset: Any,
        *,
        deployment: str = "cloud",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        on_exchange: ExchangeListener | None = None,
        credentials: Mapping[str, str] | None = None,
        tokens: Mapping[str, str] | None = None,
        faults: FaultPlan | None = None,
        latency: float = 0.0,
        max_results_cap: int = SEARCH_MAX_RESULTS,
        search_window: int | None = None,
        max_results_limit: int | None = None,
        changelog: bool = True,
        comment_delete_touches: bool = True,
        estimate_field_name: str | None = None,
    ) -> None:
        if deployment not in DEPLOYMENTS:
            raise ValueError(
                f"deployment must be one of {', '.join(DEPLOYMENTS)}, got {deployment!r}"
            )
        if deployment == "cloud" and tokens is not None:
            raise ValueError("personal access tokens are a Data Center feature")
        self.deployment = deployment
        self.dataset = load_dataset(dataset)
        self.clock = clock or dataset_clock(self.dataset.now)
        super().__init__(
            host=host, port=port, on_exchange=on_exchange, faults=faults, latency=latency
        )
        self.api: JiraApi
        if deployment == "cloud":
            self.api = JiraCloudApi(self.dataset, self.clock, self.url, credentials=credentials)
        else:
            self.api = JiraDcApi(
                self.dataset,
                self.clock,
                self.url,
                credentials=credentials,
                tokens=tokens,
                max_results_cap=max_results_cap,
                search_window=search_window,
                max_results_limit=max_results_limit,
            )
        self.api.json.show_history = changelog
        if estimate_field_name is not None:
            self.api.json.story_points_name = estimate_field_name
        self.api.deletion_touches_issue = comment_delete_touches

    def handle(self, request: Request) -> Response:
        return self.api.handle(request)

    def fault_response(self, kind: str, request: Request) -> Response:
        assert self.fault_plan is not None
        return self.api.fault_response(kind, self.fault_plan)

    # readers for tests -----------------------------------------------------------------

    def issue(self, key: str) -> Issue:
        """The internal record of an issue (read it; do not edit it)."""
        with self.api.lock:
            found = self.dataset.issue_by_id_or_key(key)
            if found is None:
                raise KeyError(key)
            return found

    def move(self, key: str, status: str, by: str) -> None:
        """Move an issue to another status now, as a person in the tracker would (tests
        use it to change an issue's history between runs)."""
        with self.api.lock:
            self.dataset.set_status(self.issue(key), status, by, self.clock())

    def set_readonly(self, project: str, readonly: bool) -> None:
        """Take every user's right to write in a project away now, or give it back, as a
        Jira admin changing the project's permission scheme would."""
        with self.api.lock:
            found = self.dataset.projects[project]
            self.dataset.projects[project] = replace(found, readonly=readonly)

    def delete_issue(self, key: str) -> None:
        """Delete an issue now, as a person in the tracker would."""
        with self.api.lock:
            self.dataset.delete_issue(self.issue(key))

    def labels(self, key: str) -> list[str]:
        with self.api.lock:
            return list(self.issue(key).labels)

    def comments(self, key: str) -> list[dict[str, Any]]:
        """Comments as stored: ``id``, ``author`` (user id), ``body`` as the client sent it,
        ``created``, ``updated``, ``update_author`` and ``properties``."""
        with self.api.lock:
            return [
                {
                    "id": c.id,
                    "author": c.author,
                    "body": c.body,
                    "created": c.created,
                    "updated": c.updated,
                    "update_author": c.update_author,
                    "properties": dict(c.properties),
                }
                for c in self.issue(key).comments
            ]

    def history(self, key: str) -> list[History]:
        """The issue's changelog, oldest first, including entries the server appended."""
        with self.api.lock:
            return list(self.issue(key).histories)

    def issue_properties(self, key: str) -> dict[str, Any]:
        with self.api.lock:
            return dict(self.issue(key).properties)

    def complete_bulk_tasks(self) -> None:
        """Cloud: run every submitted bulk edit to the end, whether it was polled or not."""
        if isinstance(self.api, JiraCloudApi):
            self.api.complete_bulk_tasks()


def run(
    dataset: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    deployment: str = "cloud",
    faults: FaultPlan | None = None,
    latency: float = 0.0,
    announce: Callable[[str], object] = print,
    changelog: bool = True,
    estimate_field_name: str | None = None,
) -> None:
    """Serve a Jira simulator in this thread until Ctrl-C; ``announce`` gets its URL."""
    simulator = JiraSimulator(
        dataset,
        host=host,
        port=port,
        deployment=deployment,
        faults=faults,
        latency=latency,
        changelog=changelog,
        estimate_field_name=estimate_field_name,
    )
    name = "Jira Cloud" if deployment == "cloud" else "Jira Data Center"
    announce(f"{name} simulator at {simulator.url}")
    users = [u for u in simulator.dataset.users.values() if u.email]
    if deployment == "cloud" and users:
        announce(f"Log in as a dataset user's email (e.g. {users[0].email}) with any token.")
    elif deployment != "cloud":
        bot = simulator.dataset.bot
        who = f"the bot user {bot!r}" if bot else "the user the token names"
        announce(
            "Log in with any personal access token (Bearer) as "
            f"{who}, or with a username and any password."
        )
    now = simulator.dataset.now
    if now is not None:
        # The data stands at its `now`: judged by the real clock it looks weeks older.
        stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        announce(
            f"The data is as of {stamp}: judge it with --now {stamp} (plan, sync, check, "
            "explain, report); without it the real clock judges it as if nothing had moved "
            "since."
        )
    if not changelog:
        announce("Serving no change history (every changelog is empty).")
    if faults is not None:
        announce(f"Injecting faults into {faults.rate:.0%} of requests (seed {faults.seed}).")
    announce("Press Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):
        simulator.serve_forever()
