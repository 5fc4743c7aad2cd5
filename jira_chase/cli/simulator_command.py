"""`jira-chase simulator`: serve a simulated Jira over HTTP, or write a generated
dataset. Kept apart from commands.py; the simulator package is imported only when it runs."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import click

from jira_chase.cli.support import EXIT_CODES, deployment_option, handle_errors
from jira_chase.errors import ConfigError


@click.command(epilog=EXIT_CODES)
@click.option(
    "--dataset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Dataset JSON file (format: jira-chase-dataset/1); default: the demo data.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on (0: any).")
@deployment_option("Serve Jira Cloud (REST v3) or Jira Data Center 10.3 (REST v2, PAT auth).")
@click.option(
    "--faults",
    "fault_rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests that fail (429, 5xx, resets, slow or cut answers).",
)
@click.option(
    "--fault-seed", type=int, default=0, show_default=True, help="Seed of the fault schedule."
)
@click.option(
    "--fault-kinds",
    default=None,
    help="Comma-separated fault kinds to inject (default: all), e.g. rate-limit,reset-after.",
)
@click.option(
    "--fault-delay",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Seconds a 'slow' fault holds its answer back.",
)
@click.option(
    "--latency",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds added to every request, to model a remote site.",
)
@click.option(
    "--generate",
    "generate_count",
    type=click.IntRange(0),
    default=None,
    help="Write a generated dataset of N issues as JSON to stdout and exit (no server).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --generate data.")
@click.option(
    "--no-history",
    is_flag=True,
    help="Serve no change history (empty changelogs), as a site whose bot account may not "
    "see history, or behind a proxy that strips it.",
)
@click.option(
    "--estimate-field-name",
    default=None,
    help="Name the story-point field like this (default: 'Story point estimate' on Cloud, "
    "'Story Points' on Data Center), as a site that renamed it.",
)
@handle_errors
def simulator(
    dataset: Path | None,
    host: str,
    port: int,
    deployment: str,
    fault_rate: float,
    fault_seed: int,
    fault_kinds: str | None,
    fault_delay: float,
    latency: float,
    generate_count: int | None,
    seed: int,
    no_history: bool,
    estimate_field_name: str | None,
) -> None:
    """Serve a simulated Jira (Cloud or Data Center) over HTTP until interrupted, or write
    a generated dataset with --generate."""
    from jira_chase.simulator import load_dataset
    from jira_chase.simulator.demo import build_demo_dataset
    from jira_chase.simulator.faults import FAULT_KINDS, FaultPlan, parse_kinds
    from jira_chase.simulator.generate import write_dataset
    from jira_chase.simulator.server import run as serve

    if generate_count is not None:
        write_dataset(sys.stdout, generate_count, seed)
        sys.stdout.flush()
        return
    try:
        kinds = parse_kinds(fault_kinds) if fault_kinds else FAULT_KINDS
    except ValueError as exc:
        raise ConfigError([f"--fault-kinds: {exc}"]) from None
    if not kinds:
        raise ConfigError(["--fault-kinds: name at least one fault kind"])
    plan = (
        FaultPlan(seed=fault_seed, rate=fault_rate, kinds=kinds, delay=fault_delay)
        if fault_rate > 0
        else None
    )
    try:
        data = load_dataset(dataset if dataset is not None else build_demo_dataset())
    except ValueError as exc:
        raise ConfigError([f"--dataset: {exc}"]) from None
    try:
        serve(
            data,
            host,
            port,
            deployment=deployment,
            faults=plan,
            latency=latency,
            changelog=not no_history,
            estimate_field_name=estimate_field_name,
        )
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        raise ConfigError(
            [
                f"--port: cannot listen on {host}:{port} ({exc.strerror}): choose another "
                "--port (0 picks a free one) or --host"
            ]
        ) from None
