"""The HTML report: static checks on the markup, then the real thing in headless Chromium.

The browser is driven over the DevTools protocol with a tiny client on ``--remote-debugging-pipe``
(fd 3 in, fd 4 out, NUL-separated JSON), so no port is opened and no extra package is needed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import signal
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fastapi_reviewer.findings import FileError, Severity
from fastapi_reviewer.report import html as html_report

XSS_MESSAGE = '<script>window.__pwned = 1</script> [bold]not bold[/bold] & <img src=x onerror="window.__pwned=2">'


# ---------------------------------------------------------------- static checks


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> _Collect:
    p = _Collect()
    p.feed(text)
    p.close()
    return p


def test_self_contained(report, rules, project, advice, make_report) -> None:
    out = html_report.render(make_report(advice=advice), rules, project)
    tags = parse(out).tags
    assert [t for t, _ in tags].count("script") == 1
    for tag, attrs in tags:
        assert not (tag == "script" and "src" in attrs)
        assert tag != "link", "no external stylesheets or fonts"
        assert tag not in {"img", "iframe", "object", "embed", "audio", "video", "source"}
    assert "@import" not in out and "url(" not in out
    csp = next(a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp.startswith("default-src 'none';") and "'unsafe-inline'" not in csp


def test_user_text_escaped(make_report, make_finding, rules, project) -> None:
    f = make_finding(
        "FR101",
        "blocking-http-call",
        "async-blocking",
        Severity.error,
        "app/api/weather.py",
        13,
        11,
        62,
        XSS_MESSAGE,
        function="<fn>",
        hint="<b>hint</b>",
    )
    report = make_report([f], advice={"summary": "<script>alert(1)</script>", "items": []})
    report.errors = [FileError(path="<evil>.py", line=1, message="<script>x</script>")]
    out = html_report.render(report, rules, project)
    parsed = parse(out)
    assert [t for t, _ in parsed.tags].count("script") == 1
    assert not any(t in {"img", "b"} for t, _ in parsed.tags)
    text = "".join(parsed.text)
    assert XSS_MESSAGE in text
    assert "<fn>" in text and "<b>hint</b>" in text and "<evil>.py" in text


def test_excerpt_highlights_the_finding(report, rules, project) -> None:
    out = html_report.render(report, rules, project)
    # line 13 of weather.py is the requests.get call; columns 11..62 are marked
    m = re.search(r'<span class="line hl" data-line="13"><span class="ln">13</span>(.*?)</span>', out)
    assert m, "highlighted line 13 missing"
    assert m.group(1) == "    raw = <mark>requests.get(f&quot;https://wttr.in/{city}&quot;, timeout=5)</mark>"
    assert '<span class="line" data-line="10">' in out  # context above


def test_missing_source_file_is_tolerated(make_report, make_finding, rules, tmp_path) -> None:
    f = make_finding("FR101", "blocking-http-call", "async-blocking", Severity.error, "gone.py", 3, 1, 5, "m")
    out = html_report.render(make_report([f]), rules, tmp_path)
    assert "Source not available: <code>gone.py</code>" in out


def test_no_findings(make_report, rules, tmp_path) -> None:
    report = make_report([])
    report.errors = []
    out = html_report.render(report, rules, tmp_path)
    assert 'id="no-findings"' in out and "<article" not in out


# ---------------------------------------------------------------- the browser


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


class CDPError(RuntimeError):
    pass


class Browser:
    """Chromium over ``--remote-debugging-pipe``: commands out on fd 3, replies and events in on fd 4."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_child_r, self._out = os.pipe()
        self._in, from_child_w = os.pipe()
        args = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
            "--window-size=1280,1600",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]

        # the child's ends go to fds 3 and 4: move them out of the way of 3 and 4 first
        src_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        src_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, src_r, 3),
            (os.POSIX_SPAWN_DUP2, src_w, 4),
        ]
        # its own process group, so a stuck browser and its helpers can be ended together
        self.pid = os.posix_spawn(binary, args, dict(os.environ), file_actions=actions, setpgroup=0)
        os.close(src_r)
        os.close(src_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise CDPError("chromium closed the pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 10, session: bool = True) -> Any:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(i)
            reply = self._read_message(deadline)
            if "method" in reply:
                self.events.append(reply)

    def open_page(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Network.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": False},
        )

    def navigate(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise CDPError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) at the centre of the element."""
        box = self.eval(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)}); el.scrollIntoView({{block: 'center'}});"
            " const r = el.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1}
            )

    def screenshot(self) -> bytes:
        return base64.b64decode(
            self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        )

    def _wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, _status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False, timeout=5)
        except (CDPError, TimeoutError, OSError):
            pass
        if not self._wait(5):
            os.killpg(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self._in)
        os.close(self._out)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Browser]:
    binary = find_chromium()
    if binary is None:
        pytest.skip("no chromium binary found (install Debian's `chromium`, or set CHROMIUM=/path/to/it)")
    b = Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.open_page()
        yield b
    finally:
        b.close()


VISIBLE = "[...document.querySelectorAll('article.finding')].filter(e => e.checkVisibility()).length"


def write_report(tmp_path: Path, text: str) -> str:
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    return page.as_uri()


def test_in_browser_filters_grouping_and_screenshot(
    browser, make_report, make_finding, rules, project, advice, tmp_path
) -> None:
    report = make_report(advice=advice)
    report.findings.append(
        make_finding(
            "FR503",
            "unbounded-list-query",
            "performance",
            Severity.info,
            "app/main.py",
            5,
            1,
            10,
            XSS_MESSAGE,
            fingerprint="ffff",
        )
    )
    url = write_report(tmp_path, html_report.render(report, rules, project))
    browser.navigate(url)

    # nothing was fetched but the page itself, nothing injected ran, the script did run
    requested = [e["params"]["request"]["url"] for e in browser.events if e["method"] == "Network.requestWillBeSent"]
    assert requested in ([], [url]), requested
    assert browser.eval("window.__pwned === undefined") is True
    assert browser.eval("document.getElementById('controls').hidden") is False
    shown_text = browser.eval("document.getElementById('shown').textContent")
    assert shown_text == "Showing 6 of 6 findings"
    assert browser.eval(VISIBLE) == 6
    # the hostile message is shown as text
    texts = browser.eval("[...document.querySelectorAll('.message')].map(e => e.textContent)")
    assert XSS_MESSAGE in texts
    assert browser.eval("document.querySelectorAll('.message script, .message img').length") == 0

    # untick "error": the three errors disappear, and so does app/main.py's group? no: it keeps the info finding
    browser.click("#sev-error")
    assert browser.eval("document.getElementById('sev-error').checked") is False
    assert browser.eval(VISIBLE) == 3
    assert browser.eval("document.getElementById('shown').textContent") == "Showing 3 of 6 findings"
    visible_sev = browser.eval(
        "[...document.querySelectorAll('article.finding')].filter(e => e.checkVisibility()).map(e => e.dataset.severity)"
    )
    assert sorted(visible_sev) == ["info", "warning", "warning"]

    # untick "warning" too: only the info finding of app/main.py remains, weather.py's group is hidden
    browser.click("#sev-warning")
    assert browser.eval(VISIBLE) == 1
    assert (
        browser.eval("document.querySelector('.group[data-group=\"app/api/weather.py\"]').checkVisibility()") is False
    )
    browser.click("#sev-info")
    assert browser.eval(VISIBLE) == 0
    assert browser.eval("document.getElementById('no-match').checkVisibility()") is True

    # all back on, then filter by rule with the select
    for sev in ("error", "warning", "info"):
        browser.click(f"#sev-{sev}")
    assert browser.eval(VISIBLE) == 6
    browser.eval(
        "(() => { const s = document.getElementById('rule-filter'); s.value = 'FR101';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    assert browser.eval(VISIBLE) == 2
    assert (
        browser.eval(
            "[...document.querySelectorAll('article.finding')].filter(e => e.checkVisibility()).every(e => e.dataset.rule === 'FR101')"
        )
        is True
    )
    browser.eval(
        "(() => { const s = document.getElementById('rule-filter'); s.value = '';"
        " s.dispatchEvent(new Event('change')); })()"
    )

    # group by rule: the cards move under rule headings, errors first
    browser.click("input[name=group-by][value=rule]")
    assert browser.eval("document.getElementById('by-file').checkVisibility()") is False
    assert browser.eval("document.getElementById('by-rule').checkVisibility()") is True
    order = browser.eval(
        "[...document.querySelectorAll('#by-rule .group')].map(g => [g.dataset.group, g.querySelectorAll('article').length])"
    )
    assert order == [["FR101", 2], ["FR601", 1], ["FR104", 1], ["FR201", 1], ["FR503", 1]]
    assert browser.eval(VISIBLE) == 6
    browser.click("#sev-error")
    assert browser.eval(VISIBLE) == 3
    assert browser.eval("document.querySelector('#by-rule .group[data-group=\"FR101\"]').checkVisibility()") is False
    browser.click("#sev-error")
    browser.click("input[name=group-by][value=file]")
    assert browser.eval("document.querySelectorAll('#by-file article.finding').length") == 6

    # the charts, the advice and the errors section are there
    assert browser.eval("document.querySelectorAll('#chart-severity rect.bar').length") == 3
    assert browser.eval("document.querySelectorAll('#chart-category rect.bar').length") == 4
    assert "Two calls block the event loop" in browser.eval("document.getElementById('advice').textContent")
    assert browser.eval("document.querySelectorAll('#finding-1 .advice').length") == 1
    assert "app/broken.py:3" in browser.eval("document.getElementById('errors').textContent")

    browser.eval("window.scrollTo(0, 0)")
    png = browser.screenshot()
    shot = tmp_path / "report.png"
    shot.write_bytes(png)
    assert shot.stat().st_size > 10_000
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1280 and height >= 1600


def test_trace_steps_show_their_source_line(report, rules, project) -> None:
    out = html_report.render(report, rules, project)
    assert (
        '<code class="step-loc">app/services/forecast.py:6</code> <code>fetch_forecast</code> calls '
        '<code>requests.get</code><pre class="step-src"><code>return requests.get(&quot;https://api.example/&quot; '
        "+ city).json()</code></pre>"
    ) in out
