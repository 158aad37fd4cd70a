"""Blocking calls reached through project helpers, reported at the call site in the coroutine."""

from __future__ import annotations

from helpers import run, write_project

from fastapi_reviewer.config import Settings


def scan(tmp_path, files):
    """Only the blocking family: other families (e.g. a client built per request) are tested elsewhere."""
    write_project(tmp_path, {"app/__init__.py": "", **files})
    return run(tmp_path, Settings(cache=False, select=["FR1"]))


def sites(findings, path="app/api.py"):
    return sorted((f.line, f.code) for f in findings if f.path == path)


def test_depth_one_two_and_three_across_modules(tmp_path):
    files = {
        "app/services/__init__.py": "from .weather import fetch\n",
        "app/services/weather.py": """
            from ..lowlevel import http_get

            def fetch(city):
                return parse(http_get(city))

            def parse(data):
                return data
            """,
        "app/lowlevel.py": """
            import requests

            def http_get(city):
                return _raw(city)

            def _raw(city):
                return requests.get(f"https://x/{city}")
            """,
        "app/api.py": """
            from app.services import fetch
            from app import lowlevel
            from .lowlevel import _raw as raw

            async def depth3(city):
                return fetch(city)

            async def depth2(city):
                return lowlevel.http_get(city)

            async def depth1(city):
                return raw(city)
            """,
    }
    findings = scan(tmp_path, files)
    assert sites(findings) == [(6, "FR101"), (9, "FR101"), (12, "FR101")]
    deep = next(f for f in findings if f.line == 6)
    assert [(s.function, s.call) for s in deep.trace] == [
        ("depth3", "fetch"),
        ("fetch", "http_get"),
        ("http_get", "_raw"),
        ("_raw", "requests.get"),
    ]
    assert [(s.path, s.line) for s in deep.trace] == [
        ("app/api.py", 6),
        ("app/services/weather.py", 4),
        ("app/lowlevel.py", 4),
        ("app/lowlevel.py", 7),
    ]


def test_methods_on_self_and_injected_classes(tmp_path):
    files = {
        "app/geo.py": """
            import httpx

            class Geocoder:
                def __init__(self):
                    self.http = httpx.Client()

                def lookup(self, q):
                    return self._call(q)

                def _call(self, q):
                    return self.http.get("/geo", params={"q": q})

                async def alookup(self, q):
                    return self.lookup(q)
            """,
        "app/api.py": """
            from typing import Annotated
            from fastapi import APIRouter, Depends
            from .geo import Geocoder

            router = APIRouter()

            @router.get("/a")
            async def by_default(q: str, geo: Geocoder = Depends()):
                return geo.lookup(q)

            @router.get("/b")
            async def by_annotated(q: str, geo: Annotated[Geocoder, Depends(Geocoder)]):
                return geo.lookup(q)

            async def constructed(q: str):
                return Geocoder().lookup(q)
            """,
    }
    findings = scan(tmp_path, files)
    assert sites(findings) == [(9, "FR101"), (13, "FR101"), (16, "FR101")]
    assert sites(findings, "app/geo.py") == [(14, "FR101")]
    assert "async route `by_default`" in next(f for f in findings if f.line == 9 and f.path == "app/api.py").message


def test_one_finding_per_call_site_and_kind(tmp_path):
    files = {
        "app/helpers.py": """
            import time, requests

            def slow():
                requests.get("a")
                requests.post("b")
                time.sleep(1)
            """,
        "app/api.py": """
            from .helpers import slow

            async def handler():
                slow()
            """,
    }
    assert sites(scan(tmp_path, files)) == [(4, "FR101"), (4, "FR102")]


def test_recursion_and_cycles_terminate(tmp_path):
    files = {
        "app/walk.py": """
            import os

            def visit(path, depth=0):
                if depth > 3:
                    return os.listdir(path)
                return ping(path, depth)

            def ping(path, depth):
                return visit(path, depth + 1)
            """,
        "app/api.py": """
            from .walk import visit

            async def handler():
                return visit("/")
            """,
    }
    assert sites(scan(tmp_path, files)) == [(4, "FR104")]


def test_offload_boundaries_at_every_depth(tmp_path):
    files = {
        "app/helpers.py": """
            import asyncio
            import requests
            from fastapi import BackgroundTasks
            from fastapi.concurrency import run_in_threadpool

            def blocking():
                return requests.get("u")

            def schedules(tasks: BackgroundTasks):
                tasks.add_task(blocking)

            def middle():
                return blocking

            async def offloads_inside():
                await asyncio.to_thread(blocking)
                await run_in_threadpool(blocking)
            """,
        "app/api.py": """
            import anyio.to_thread
            from fastapi import BackgroundTasks
            from .helpers import blocking, schedules, middle, offloads_inside

            async def handler(tasks: BackgroundTasks):
                await anyio.to_thread.run_sync(blocking)
                schedules(tasks)
                middle()
                await offloads_inside()
                tasks.add_task(blocking)
            """,
    }
    findings = scan(tmp_path, files)
    assert findings == []


def test_helpers_reached_only_from_sync_code_are_silent(tmp_path):
    files = {
        "app/helpers.py": """
            import requests

            def fetch():
                return requests.get("u")

            def sync_caller():
                return fetch()
            """,
        "app/api.py": """
            from fastapi import APIRouter
            from .helpers import fetch, sync_caller

            router = APIRouter()

            @router.get("/sync")
            def sync_route():
                return fetch(), sync_caller()
            """,
    }
    assert scan(tmp_path, files) == []


def test_awaited_coroutines_are_not_walked_twice(tmp_path):
    files = {
        "app/helpers.py": """
            import time

            async def pause():
                time.sleep(1)
            """,
        "app/api.py": """
            from .helpers import pause

            async def handler():
                await pause()
            """,
    }
    findings = scan(tmp_path, files)
    assert [(f.path, f.line) for f in findings] == [("app/helpers.py", 4)]


def test_partial_view_reports_only_named_files_but_follows_the_rest(tmp_path):
    files = {
        "app/helpers.py": "import requests\n\ndef fetch():\n    return requests.get('u')\n\nasync def direct():\n    requests.get('v')\n",
        "app/api.py": "from .helpers import fetch\n\nasync def handler():\n    return fetch()\n",
    }
    write_project(tmp_path, {"app/__init__.py": "", **files})
    findings = run(tmp_path, Settings(cache=False), targets=[tmp_path / "app" / "api.py"])
    assert [(f.path, f.line, f.code) for f in findings] == [("app/api.py", 4, "FR101")]


def test_extend_blocking_calls_marks_a_teams_own_sdk(tmp_path):
    files = {
        "app/sdk.py": "class Billing:\n    def charge(self, amount):\n        return amount\n",
        "app/api.py": """
            import vendor_sdk

            client = vendor_sdk.Client()

            async def handler():
                client.charge(10)
            """,
    }
    write_project(tmp_path, {"app/__init__.py": "", **files})
    settings = Settings(cache=False, extend_blocking_calls={"vendor_sdk.Client.charge": "use vendor_sdk.AsyncClient"})
    findings = run(tmp_path, settings)
    assert [(f.line, f.code, f.hint) for f in findings] == [(6, "FR112", "use vendor_sdk.AsyncClient")]


def test_partial_decorated_and_celery_delay(tmp_path):
    files = {
        "app/helpers.py": """
            import functools
            import requests
            from celery import shared_task

            def logged(fn):
                @functools.wraps(fn)
                def wrapper(*args, **kwargs):
                    return fn(*args, **kwargs)
                return wrapper

            @logged
            def fetch(url):
                return requests.get(url)

            @shared_task
            def crawl(url):
                return requests.get(url)
            """,
        "app/api.py": """
            from functools import partial
            from .helpers import fetch, crawl

            async def handler():
                bound = partial(fetch, "https://example.com")
                bound()
                fetch("u")
                crawl.delay("u")
            """,
    }
    findings = scan(tmp_path, files)
    assert sites(findings) == [(6, "FR101"), (7, "FR101")]


def test_extend_blocking_calls_can_name_project_functions(tmp_path):
    files = {
        "app/sdk.py": "def charge(amount):\n    return amount\n",
        "app/api.py": "from .sdk import charge\n\nasync def handler():\n    charge(3)\n",
    }
    write_project(tmp_path, {"app/__init__.py": "", **files})
    settings = Settings(cache=False, extend_blocking_calls={"app.sdk.charge": "use the async SDK"})
    assert [(f.line, f.code) for f in run(tmp_path, settings)] == [(4, "FR112")]
