"""What the commands share: the exit codes their help ends with, the error handling
that turns library errors into one-line messages and exit codes, the options, and the
`Output` (output.py) each command speaks through."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click
import requests

from jira_chase.cli.output import LOG_FORMATS, TEXT, Output
from jira_chase.errors import EXIT_TRACKER, EXIT_UNEXPECTED, ChaseError, ConfigError

F = TypeVar("F", bound=Callable[..., Any])
OUTPUT = "jira_chase.cli.output"

EXIT_CODES = """\b
Exit codes:
  0  ok
  1  unexpected error
  2  configuration or usage problem, or an unusable state file (one line each)
  3  the tracker failed the run (credentials, scope query, unreachable)
  4  partial: some writes failed, the rest were done
  5  another run holds the state file's lock (this one wrote nothing)
  130  interrupted (Ctrl-C): what was written is recorded; the next run goes on"""


def output() -> Output:
    meta = click.get_current_context().meta
    if OUTPUT not in meta:
        meta[OUTPUT] = Output()
    out: Output = meta[OUTPUT]
    return out


def use_output(out: Output) -> Output:
    """Make `out` the command's voice: errors and log records go through it."""
    ctx = click.get_current_context()
    ctx.meta[OUTPUT] = out
    out.install_logging(bool(ctx.find_root().params.get("verbose")))
    return out


def handle_errors(func: F) -> F:
    """Turn library errors into one line per problem on stderr and the exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verbose = bool(click.get_current_context().find_root().params.get("verbose"))
        try:
            return func(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except ConfigError as exc:
            for problem in exc.problems:
                output().error(f"config error: {problem}")
            code = exc.exit_code
        except ChaseError as exc:
            output().error(f"error: {exc}", exc_info=verbose)
            code = exc.exit_code
        except KeyboardInterrupt:
            output().error("interrupted; the next run finishes the job")
            code = 130
        except Exception as exc:
            if failed_request(exc):
                # A tracker failure no source turned into a TrackerError: still one line.
                output().error(f"error: {tracker_failure(exc)}", exc_info=verbose)
                code = EXIT_TRACKER
            else:
                output().error(
                    f"unexpected error: {type(exc).__name__}: {exc}"
                    + ("" if verbose else " (rerun with --verbose for details)"),
                    exc_info=verbose,
                )
                code = EXIT_UNEXPECTED
        output().outcome(f"jira-chase failed with exit code {code}", exit_code=code,
                         outcome="failed")  # fmt: skip
        sys.exit(code)

    return wrapper  # type: ignore[return-value]


def failed_request(exc: Exception) -> bool:
    """Whether `exc` is a request the tracker failed: a `requests` error, or the `jira`
    library's (looked up only when the library is loaded, as it is for any Jira run)."""
    jira = sys.modules.get("jira")
    return isinstance(exc, requests.RequestException) or (
        jira is not None and isinstance(exc, jira.JIRAError)
    )


def tracker_failure(exc: Exception) -> str:
    """A failed request in one line: its status and path, never its headers or body
    (the `jira` library's errors print both)."""
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
    url = getattr(exc, "url", None) or getattr(getattr(exc, "request", None), "url", None)
    where = urlsplit(str(url)).path if url else "the tracker"
    answered = f"answered HTTP {status}" if status else f"failed ({type(exc).__name__})"
    return f"the tracker {answered} at {where}; rerun with --verbose for details"


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML configuration file (default: $JIRA_CHASE_CONFIG).",
)
now_option = click.option(
    "--now",
    default=None,
    help="Judge as of this ISO 8601 time instead of the real clock (reproduce a run).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def deployment_option(help: str) -> Callable[[F], F]:
    """`--deployment`: which Jira, Cloud or Data Center (`demo` and `simulator`)."""
    return click.option(
        "--deployment",
        type=click.Choice(["cloud", "datacenter"]),
        default="cloud",
        show_default=True,
        help=help,
    )


wait_option = click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for another run on the same state file before giving up (exit 5).",
)
force_option = click.option(
    "--force",
    is_flag=True,
    help="Accept a scope that suddenly matches far fewer issues than the last run "
    "(the run then cleans the issues that left it).",
)

retry_refused_option = click.option(
    "--retry-refused",
    is_flag=True,
    help="Write now to the projects that refused every write within the last day "
    "(otherwise held back until a day has passed).",
)


def run_options(func: F) -> F:
    """The output options of `plan` and `sync`."""
    for option in reversed(
        [
            config_option,
            now_option,
            json_option,
            click.option("--details", is_flag=True, help="List every finding and operation."),
            click.option(
                "-q", "--quiet", is_flag=True, help="Print errors and the one-line outcome only."
            ),
            click.option(
                "--log-format",
                type=click.Choice(LOG_FORMATS),
                default=TEXT,
                show_default=True,
                help="json: one JSON object per event line (start, phase, write failure, "
                "outcome), for log shippers.",
            ),
            click.option(
                "--metrics-file",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Write the run's metrics here in Prometheus text format "
                "(node_exporter textfile collector).",
            ),
        ]
    ):
        func = option(func)
    return func
