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
            "jira_chase",
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
        [sys.executable, "-m", "jira_chase", "simulator", "--port", "0", "--no-history"],
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


def test_the_banner_says_which_now_the_data_is_judged_at_and_it_parses(tmp_path):
    from click.testing import CliRunner

    from jira_chase.cli.commands import main
    from tests.factories import demo_config, write_toml

    proc = subprocess.Popen(
        [sys.executable, "-m", "jira_chase", "simulator", "--port", "0",
         "--estimate-field-name", "Story points"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline()]
        while not lines[-1].startswith("Press Ctrl-C"):
            lines.append(proc.stdout.readline())
        url = lines[0].split(" at ")[1].strip()
        said = next(line for line in lines if "--now" in line)
        stamp = said.split("--now ")[1].split()[0]
        assert stamp == build_demo_dataset()["now"].replace("+00:00", "Z")
        fields = requests.get(f"{url}/rest/api/3/field", auth=("ann.lee@example.com", "x"),
                              timeout=10).json()  # fmt: skip
        assert "Story points" in {f["name"] for f in fields}
        config = write_toml(tmp_path / "c.toml", demo_config(url, str(tmp_path / "s.sqlite")))
        result = CliRunner().invoke(
            main, ["plan", "--config", str(config), "--now", stamp, "--json"]
        )
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["as_of"].startswith(stamp[:16])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
