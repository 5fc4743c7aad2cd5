"""`jira-chase simulator`: serving a dataset over HTTP as a separate process."""

import json
import subprocess
import sys

import requests

from jira_chase.simulator.demo import build_demo_dataset
from tests.test_cli import cli


def test_simulator_command_serves_a_dataset_file(tmp_path):
    import subprocess
    import sys

    import requests

    path = tmp_path / "data.json"
    path.write_text(json.dumps(build_demo_dataset()))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jira_chase.cli",
            "simulator",
            "--dataset",
            str(path),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" at ")[1].strip()
        answer = requests.get(
            f"{url}/rest/api/3/myself", auth=("ann.lee@example.com", "x"), timeout=10
        )
        assert answer.status_code == 200 and answer.json()["displayName"] == "Ann Lee"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_simulator_rejects_a_bad_dataset_naming_the_issue(tmp_path):
    data = build_demo_dataset()
    data["issues"][0]["status"] = "Done" if data["issues"][0]["status"] != "Done" else "To Do"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    result = cli("simulator", "--dataset", str(path), "--port", "0")
    assert result.exit_code == 2
    assert data["issues"][0]["key"] in result.stderr


def test_the_simulator_command_serves_no_history_on_request():
    proc = subprocess.Popen(
        [sys.executable, "-m", "jira_chase.cli", "simulator", "--port", "0", "--no-history"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" at ")[1].strip()
        answer = requests.get(
            f"{url}/rest/api/3/issue/APP-52",
            params={"expand": "changelog", "fields": "status"},
            auth=("ann.lee@example.com", "x"),
            timeout=10,
        )
        assert answer.status_code == 200
        assert answer.json()["fields"]["status"]["name"] == "Done"
        assert answer.json()["changelog"]["histories"] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_port_in_use_is_one_line_and_exit_2():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("simulator", "--port", str(port))
    assert result.exit_code == 2, result.output + result.stderr
    assert f"--port: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "unexpected error" not in result.stderr
