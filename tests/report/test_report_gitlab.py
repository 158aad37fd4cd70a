from __future__ import annotations

import json
from pathlib import Path

from fastapi_reviewer.findings import Severity
from fastapi_reviewer.report import gitlab


def test_golden(report, rules, golden) -> None:
    golden("gitlab.txt", gitlab.render(report, rules, Path(".")))


def test_required_fields_and_severities(report, rules) -> None:
    issues = json.loads(gitlab.render(report, rules, Path(".")))
    assert isinstance(issues, list) and len(issues) == len(report.findings) + len(report.errors)
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert isinstance(issue["location"]["path"], str)
        assert issue["location"]["lines"]["begin"] >= 1
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
    by_check = {i["check_name"].split()[0]: i["severity"] for i in issues}
    assert by_check["FR101"] == "major"
    assert by_check["FR104"] == "minor"
    multi = next(i for i in issues if i["check_name"].startswith("FR104"))
    assert multi["location"] == {"path": "app/api/weather.py", "lines": {"begin": 19, "end": 20}}


def test_info_maps_to_info(make_report, make_finding, rules) -> None:
    f = make_finding(
        "FR503", "unbounded-list-query", "performance", Severity.info, "a.py", 1, 1, 2, "m", fingerprint="ab"
    )
    (issue, _error) = json.loads(gitlab.render(make_report([f]), rules, Path(".")))
    assert issue["severity"] == "info"
    assert issue["fingerprint"] == "ab"


def _dupes(make_finding, line_offset: int) -> list:
    # the same code twice in one function: the scanner gives both the same fingerprint
    return [
        make_finding(
            "FR101",
            "blocking-http-call",
            "async-blocking",
            Severity.error,
            "a.py",
            10 + line_offset,
            5,
            20,
            "requests.get blocks",
            fingerprint="samefp0000",
        ),
        make_finding(
            "FR101",
            "blocking-http-call",
            "async-blocking",
            Severity.error,
            "a.py",
            12 + line_offset,
            5,
            20,
            "requests.get blocks",
            fingerprint="samefp0000",
        ),
    ]


def test_fingerprints_unique_and_line_independent(make_report, make_finding, rules) -> None:
    before = json.loads(gitlab.render(make_report(_dupes(make_finding, 0)), rules, Path(".")))
    after = json.loads(gitlab.render(make_report(_dupes(make_finding, 7)), rules, Path(".")))
    fps_before = [i["fingerprint"] for i in before]
    fps_after = [i["fingerprint"] for i in after]
    assert len(set(fps_before)) == len(fps_before)
    assert fps_before[0] == "samefp0000"  # the first keeps the finding's own fingerprint
    assert fps_before[1] != "samefp0000"
    assert fps_before == fps_after  # moving the code down does not change them
    assert before[0]["location"]["lines"]["begin"] != after[0]["location"]["lines"]["begin"]


def test_empty_report_is_an_empty_array(make_report, rules) -> None:
    report = make_report([])
    report.errors = []
    assert json.loads(gitlab.render(report, rules, Path("."))) == []
