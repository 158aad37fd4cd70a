"""The command line: exit codes, formats, config errors, parse errors, suppression."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_reviewer.cli import app

BAD = """
import requests

async def handler():
    return requests.get("https://example.com")
"""
WARN_ONLY = """
async def handler():
    with open("x") as fh:
        return fh.read()
"""


def project(tmp_path: Path, files: dict[str, str], config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n" + config)
    for rel, code in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code).lstrip("\n"))
    return tmp_path


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(app, ["check", "--no-cache", *args], env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_exit_codes(tmp_path):
    project(tmp_path, {"bad.py": BAD})
    assert cli(tmp_path, ".").exit_code == 1
    assert cli(tmp_path, ".", "--exit-zero").exit_code == 0
    assert cli(tmp_path, "missing_dir").exit_code == 2
    assert cli(tmp_path, ".", "--select", "FR999").exit_code == 2


def test_fail_on_threshold(tmp_path):
    project(tmp_path, {"warn.py": WARN_ONLY})
    assert cli(tmp_path, ".").exit_code == 1
    assert cli(tmp_path, ".", "--fail-on", "error").exit_code == 0
    assert cli(tmp_path, ".", "--fail-on", "warning").exit_code == 1


def test_clean_project_exits_zero(tmp_path):
    project(tmp_path, {"ok.py": "async def f():\n    return 1\n"})
    result = cli(tmp_path, ".")
    assert result.exit_code == 0
    assert "No findings" in result.output


def test_no_python_files(tmp_path):
    project(tmp_path, {"README.md": "hi"})
    result = cli(tmp_path, ".")
    assert result.exit_code == 0
    assert "no Python files found" in result.stderr


def test_json_contract(tmp_path):
    project(tmp_path, {"app/__init__.py": "", "app/bad.py": BAD, "app/broken.py": "def f(:\n"})
    result = cli(tmp_path, ".", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["version"] == 1
    assert data["tool"]["name"] == "fastapi-review"
    assert set(data) == {"version", "tool", "findings", "errors", "summary"}
    finding = data["findings"][0]
    assert {
        "code", "name", "category", "severity", "path", "line", "column", "end_line", "end_column",
        "message", "function", "trace", "fingerprint", "url",
    } <= set(finding)
    assert finding["code"] == "FR101" and finding["name"] == "blocking-http-call"
    assert finding["category"] == "async-blocking" and finding["severity"] == "error"
    assert finding["path"] == "app/bad.py"
    assert (finding["line"], finding["column"]) == (4, 12)
    assert finding["end_column"] > finding["column"]
    assert finding["function"] == "handler"
    assert finding["trace"][0]["call"] == "requests.get"
    assert data["errors"][0]["path"] == "app/broken.py" and data["errors"][0]["line"] == 1
    assert data["summary"] == {"files": 3, "findings": 1, "by_severity": {"error": 1}}


def test_fingerprint_survives_line_shifts(tmp_path):
    project(tmp_path, {"bad.py": BAD})
    first = json.loads(cli(tmp_path, ".", "--format", "json").stdout)["findings"][0]
    (tmp_path / "bad.py").write_text("# a comment\n\n" + textwrap.dedent(BAD).lstrip("\n"))
    second = json.loads(cli(tmp_path, ".", "--format", "json").stdout)["findings"][0]
    assert first["line"] + 2 == second["line"]
    assert first["fingerprint"] == second["fingerprint"]


def test_concise_format_and_statistics(tmp_path):
    project(tmp_path, {"bad.py": BAD})
    result = cli(tmp_path, ".", "--format", "concise", "--statistics")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("bad.py:4:12: FR101 [blocking-http-call] `requests.get()` is a blocking HTTP request")
    assert lines[1].split() == ["1", "FR101", "blocking-http-call"]


def test_text_output_escapes_markup(tmp_path):
    code = 'import time\n\nasync def handler(data):\n    time.sleep(data["[bold]x[/bold]"])\n'
    project(tmp_path, {"bad.py": code})
    result = cli(tmp_path, ".", "--color", "never")
    assert 'time.sleep(data["[bold]x[/bold]"])' in result.stdout
    assert "hint:" in result.stdout and "FR102" in result.stdout


def test_color_flags(tmp_path):
    project(tmp_path, {"bad.py": BAD})
    assert "\x1b[" in cli(tmp_path, ".", "--color", "always").stdout
    assert "\x1b[" not in cli(tmp_path, ".", "--color", "never").stdout
    assert "\x1b[" not in cli(tmp_path, ".", env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" in cli(tmp_path, ".", env={"FORCE_COLOR": "1"}).stdout


def test_several_formats_in_one_run(tmp_path):
    project(tmp_path, {"bad.py": BAD})
    result = cli(tmp_path, ".", "--format", "concise", "--format", "json=out.json")
    assert result.stdout.startswith("bad.py:4:12: FR101")
    assert json.loads((tmp_path / "out.json").read_text())["summary"]["findings"] == 1
    cli(tmp_path, ".", "--format", "json", "--output-file", "report.json")
    assert json.loads((tmp_path / "report.json").read_text())["findings"][0]["code"] == "FR101"


def test_noqa_comments(tmp_path):
    code = """
    import requests, time

    async def handler():
        requests.get("a")  # noqa: FR101
        requests.get("b")  # noqa: FR102,FR101
        requests.get("c")  # noqa
        requests.get("d")  # noqa: FR102
        time.sleep(1)  # NOQA:FR102
    """
    project(tmp_path, {"bad.py": code})
    data = json.loads(cli(tmp_path, ".", "--format", "json").stdout)
    assert [(f["line"], f["code"]) for f in data["findings"]] == [(7, "FR101")]


def test_select_ignore_and_names(tmp_path):
    project(tmp_path, {"bad.py": BAD, "warn.py": WARN_ONLY})

    def codes(*args):
        return sorted(f["code"] for f in json.loads(cli(tmp_path, ".", "--format", "json", *args).stdout)["findings"])

    assert codes() == ["FR101", "FR104"]
    assert codes("--select", "FR104") == ["FR104"]
    assert codes("--select", "blocking-http-call") == ["FR101"]
    assert codes("--ignore", "FR10") == []
    assert codes("--select", "FR101", "--extend-select", "blocking-file-io") == ["FR101", "FR104"]
    assert codes("--select", "async-blocking", "--ignore", "FR101,FR102") == ["FR104"]


def test_config_from_pyproject_and_cli_precedence(tmp_path):
    config = textwrap.dedent(
        """
        [tool.fastapi-review]
        ignore = ["FR101"]
        per-file-ignores = { "legacy/*.py" = ["FR104"] }
        severity = { blocking-file-io = "error" }
        """
    )
    project(tmp_path, {"bad.py": BAD, "warn.py": WARN_ONLY, "legacy/old.py": WARN_ONLY}, config)
    data = json.loads(cli(tmp_path, ".", "--format", "json").stdout)
    assert [(f["path"], f["code"], f["severity"]) for f in data["findings"]] == [("warn.py", "FR104", "error")]
    data = json.loads(cli(tmp_path, ".", "--format", "json", "--ignore", "FR104").stdout)
    assert [f["code"] for f in data["findings"]] == ["FR101"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[tool.fastapi-review]\nselekt = ["FR1"]\n', "unknown key 'selekt'"),
        ('[tool.fastapi-review]\nfail-on = "fatal"\n', "'fail-on'"),
        ('[tool.fastapi-review]\njobs = "many"\n', "'jobs'"),
        ('[tool.fastapi-review]\nseverity = { FR999 = "error" }\n', "unknown rule 'FR999'"),
        ('[tool.fastapi-review]\nper-file-ignores = { "x.py" = ["nope"] }\n', "per-file-ignores.x.py"),
        ("[tool.fastapi-review\n", "invalid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path, config, message):
    (tmp_path / "pyproject.toml").write_text(config)
    (tmp_path / "bad.py").write_text(BAD)
    result = cli(tmp_path, ".")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_explicit_config_file(tmp_path):
    project(tmp_path, {"bad.py": BAD})
    (tmp_path / "review.toml").write_text('select = ["FR104"]\n')
    assert cli(tmp_path, ".", "--config", "review.toml").exit_code == 0
    assert cli(tmp_path, ".", "--config", "missing.toml").exit_code == 2


def test_unparseable_files_are_reported_and_the_scan_goes_on(tmp_path):
    project(tmp_path, {"bad.py": BAD, "syntax.py": "def f(:\n    pass\n", "empty.py": ""})
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: utf-8 -*-\nx = '\xff'\n")
    result = cli(tmp_path, ".", "--format", "json")
    data = json.loads(result.stdout)
    assert [f["path"] for f in data["findings"]] == ["bad.py"]
    errors = {e["path"]: e["message"] for e in data["errors"]}
    assert set(errors) == {"syntax.py", "binary.py", "latin.py"}
    assert "binary" in errors["binary.py"]
    text = cli(tmp_path, ".", "--color", "never")
    assert "syntax.py:1" in text.stdout and "could not be read" in text.stdout


def test_discovery_honours_gitignore_and_excludes(tmp_path):
    project(tmp_path, {"app/bad.py": BAD, "generated/bad.py": BAD, ".venv/lib/bad.py": BAD, "vendor/bad.py": BAD}, '[tool.fastapi-review]\nextend-exclude = ["vendor"]\n')
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("generated/\n")
    data = json.loads(cli(tmp_path, ".", "--format", "json").stdout)
    assert [f["path"] for f in data["findings"]] == ["app/bad.py"]
    named = json.loads(cli(tmp_path, "vendor/bad.py", "--format", "json").stdout)
    assert [f["path"] for f in named["findings"]] == ["vendor/bad.py"]
    forced = cli(tmp_path, "vendor/bad.py", "--force-exclude", "--format", "json")
    assert forced.exit_code == 0


def test_rule_and_rules_commands():
    runner = CliRunner()
    doc = runner.invoke(app, ["rule", "FR101"])
    assert doc.exit_code == 0
    assert "## What it does" in doc.stdout and "## Why is this bad?" in doc.stdout and "Use instead:" in doc.stdout
    assert runner.invoke(app, ["rule", "blocking-sleep"]).stdout.startswith("# blocking-sleep (FR102)")
    assert runner.invoke(app, ["rule", "nope"]).exit_code == 2
    listing = json.loads(runner.invoke(app, ["rules", "--format", "json"]).stdout)
    assert {"FR101", "FR112"} <= {r["code"] for r in listing}


def test_entry_point_defaults_to_check(tmp_path):
    project(tmp_path, {"bad.py": BAD})
    run = lambda *a: subprocess.run([sys.executable, "-m", "fastapi_reviewer", *a], cwd=tmp_path, capture_output=True, text=True)  # noqa: E731
    assert run("--version").stdout.startswith("fastapi-review ")
    default = run("--no-cache", "--format", "concise")
    assert default.returncode == 1 and "FR101" in default.stdout
    assert run("bad.py", "--no-cache").returncode == 1
    assert "Traceback" not in run("does-not-exist").stderr


def test_the_collector_stays_off_in_a_process_of_our_own_only() -> None:
    """The console script keeps the cyclic collector off for the whole run (its phases sweep what
    they leave, parsing.py); a program importing the CLI keeps its collector."""
    import subprocess
    import sys

    probe = "import sys; sys.argv = [{name!r}]; import gc, fastapi_reviewer.cli; print(gc.isenabled())"
    own = subprocess.run([sys.executable, "-c", probe.format(name="/usr/bin/fastapi-review")], capture_output=True, text=True, check=True)
    hosted = subprocess.run([sys.executable, "-c", probe.format(name="my_program.py")], capture_output=True, text=True, check=True)
    assert (own.stdout.strip(), hosted.stdout.strip()) == ("False", "True")


def test_a_scan_from_a_hosting_program_leaves_its_collector_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import gc

    from fastapi_reviewer.cli import main

    (tmp_path / "app.py").write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--no-cache", "-q", "--exit-zero"])
    assert gc.isenabled()


def test_a_run_on_a_warm_cache_reads_no_rule_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The catalog comes pickled from the cache folder, for the scan and for describing its
    findings alike: the rule files are parsed once per code version, not per run."""
    from fastapi_reviewer import catalog
    from fastapi_reviewer.cli import main

    (tmp_path / "app.py").write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    args = [str(tmp_path / "app.py"), "--cache-dir", str(tmp_path / "cache"), "--exit-zero", "--format", "concise"]
    with pytest.raises(SystemExit):
        main(args)  # writes the catalog's pickle

    def refuse(directory=None):  # type: ignore[no-untyped-def]
        raise AssertionError("the rule files were parsed again")

    monkeypatch.setattr(catalog, "load_catalog", refuse)
    (tmp_path / "app.py").write_text("import time\n\nasync def g():\n    time.sleep(2)\n")  # no run-cache answer
    with pytest.raises(SystemExit) as ended:
        main(args)
    assert ended.value.code == 0
