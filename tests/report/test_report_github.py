from __future__ import annotations

from pathlib import Path

from fastapi_reviewer.findings import Severity, TraceStep
from fastapi_reviewer.report import github


def test_golden(report, rules, golden) -> None:
    golden("github.txt", github.render(report, rules, Path(".")))


def test_one_command_per_finding_and_error(report, rules) -> None:
    lines = github.render(report, rules, Path(".")).splitlines()
    assert len(lines) == len(report.findings) + len(report.errors)
    assert all(line.startswith("::") for line in lines)
    assert [line.split(" ", 1)[0] for line in lines] == [
        "::error",
        "::error",
        "::warning",
        "::warning",
        "::error",
        "::warning",
    ]


def test_info_is_a_notice(make_report, make_finding, rules) -> None:
    f = make_finding("FR503", "unbounded-list-query", "performance", Severity.info, "a.py", 3, 5, 9, "x")
    out = github.render(make_report([f]), rules, Path("."))
    assert out.startswith("::notice file=a.py,line=3,endLine=3,col=5,endColumn=9,title=FR503 unbounded-list-query::x\n")


def test_columns_only_on_single_line_ranges(report, rules) -> None:
    lines = github.render(report, rules, Path(".")).splitlines()
    multi = next(line for line in lines if "FR104" in line)
    assert "line=19,endLine=20," in multi
    assert "col=" not in multi and "endColumn=" not in multi
    single = next(line for line in lines if "FR601" in line)
    assert "line=5,endLine=5,col=1,endColumn=80," in single


def test_escaping_data_and_properties(make_report, make_finding, rules) -> None:
    f = make_finding(
        "FR101",
        "blocking-http-call",
        "async-blocking",
        Severity.error,
        "app/we,ird:name%.py",
        4,
        2,
        6,
        "100% blocking:\r\nline two, with comma",
        hint="use a, b: c",
    )
    out = github.render(make_report([f]), rules, Path("."))
    first = out.splitlines()[0]
    props, message = first[len("::error ") :].split("::", 1)
    # a property value: %, \r, \n, ':' and ',' are escaped
    assert props.startswith("file=app/we%2Cird%3Aname%25.py,line=4,")
    assert props.endswith("title=FR101 blocking-http-call")
    # the message: only %, \r and \n are escaped; ':' and ',' stay
    assert message == "100%25 blocking:%0D%0Aline two, with comma%0AHint: use a, b: c"
    assert "\r" not in out and out.count("\n") == 2  # one per command (plus the file error)


def test_escape_functions() -> None:
    assert github.escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert github.escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"
    # '%' first, so escapes are not escaped twice
    assert github.escape_data("%0A") == "%250A"


def test_trace_appended_as_chain(make_report, make_finding, rules) -> None:
    f = make_finding(
        "FR101",
        "blocking-http-call",
        "async-blocking",
        Severity.error,
        "app/routes.py",
        10,
        5,
        20,
        "service.fetch blocks",
        trace=[
            TraceStep(path="app/routes.py", line=10, function="route", call="service.fetch"),
            TraceStep(path="app/service.py", line=3, function="service.fetch", call="requests.get"),
        ],
    )
    out = github.render(make_report([f]), rules, Path("."))
    assert out.splitlines()[0].endswith("::service.fetch blocks%0ATrace: route -> service.fetch -> requests.get")


def test_no_findings_no_errors_is_empty(make_report, rules) -> None:
    report = make_report([])
    report.errors = []
    assert github.render(report, rules, Path(".")) == ""


def test_one_step_trace_is_not_repeated(make_report, make_finding, rules) -> None:
    # a direct finding carries a one-step trace; it says nothing the location does not
    f = make_finding(
        "FR102",
        "blocking-sleep",
        "async-blocking",
        Severity.error,
        "a.py",
        4,
        5,
        18,
        "time.sleep blocks",
        trace=[TraceStep(path="a.py", line=4, function="route", call="time.sleep")],
    )
    out = github.render(make_report([f]), rules, Path("."))
    assert out.splitlines()[0].endswith("::time.sleep blocks")
