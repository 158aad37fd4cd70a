from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fastapi_reviewer.findings import Severity
from fastapi_reviewer.report import junit


def test_golden_by_rule(report, rules, golden) -> None:
    golden("junit.txt", junit.render(report, rules, Path(".")))


def test_golden_by_file(report, rules, golden) -> None:
    golden("junit-by-file.txt", junit.render(report, rules, Path("."), group_by="file"))


def test_counts_and_structure(report, rules) -> None:
    root = ET.fromstring(junit.render(report, rules, Path(".")))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    # every rule handed in has a suite; FR503 found nothing and passes
    assert {"FR101 blocking-http-call", "FR503 unbounded-list-query", "fastapi-review file errors"} <= set(suites)
    fr101 = suites["FR101 blocking-http-call"]
    assert fr101.get("tests") == "2" and fr101.get("failures") == "2"
    assert len(fr101.findall("testcase/failure")) == 2
    clean = suites["FR503 unbounded-list-query"]
    assert clean.get("failures") == "0" and len(clean.findall("testcase")) == 1
    assert clean.find("testcase/failure") is None
    assert root.get("failures") == str(len(report.findings))
    assert root.get("errors") == "1"
    assert root.get("tests") == str(sum(int(s.get("tests")) for s in suites.values()))
    failure = fr101.find("testcase/failure")
    assert failure.get("type") == "FR101"
    assert "get_weather -> fetch_forecast -> requests.get" in failure.text


def test_passing_case_when_no_findings(make_report, rules) -> None:
    report = make_report([])
    report.errors = []
    for group_by in ("rule", "file"):
        root = ET.fromstring(junit.render(report, {}, Path("."), group_by=group_by))
        cases = root.findall("testsuite/testcase")
        assert len(cases) == 1
        assert cases[0].find("failure") is None and cases[0].find("error") is None
        assert root.get("tests") == "1" and root.get("failures") == "0"


def test_xml_escaping(make_report, make_finding, rules) -> None:
    nasty = 'a <b>&"c"\x1b[31m \x00 </testcase>]]>'
    f = make_finding(
        "FR101", "blocking-http-call", "async-blocking", Severity.error, "x&<y>.py", 1, 1, 2, nasty, hint="<hint>"
    )
    text = junit.render(make_report([f]), rules, Path("."))
    root = ET.fromstring(text)  # well-formed despite the control characters
    failure = root.find(".//failure")
    assert failure.get("message") == 'a <b>&"c"\ufffd[31m \ufffd </testcase>]]>'
    assert "<hint>" in failure.text
    assert root.find(".//testcase").get("file") == "x&<y>.py"
    assert "</testcase>]]>" not in text


def test_bad_group_by(report, rules) -> None:
    with pytest.raises(ValueError):
        junit.render(report, rules, Path("."), group_by="nope")  # type: ignore[arg-type]
