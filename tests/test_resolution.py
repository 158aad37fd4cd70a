"""Name resolution: imports, aliases, scopes and shadowing decide what a call is."""

from __future__ import annotations

from helpers import run, write_project


def codes_by_line(tmp_path, code: str, extra: dict[str, str] | None = None) -> list[tuple[int, str]]:
    files = {"app/__init__.py": "", "app/main.py": code, **(extra or {})}
    write_project(tmp_path, files)
    return sorted((f.line, f.code) for f in run(tmp_path) if f.path == "app/main.py")


def test_aliases_at_module_and_function_level(tmp_path):
    code = """
    import requests as rq
    from time import sleep
    from subprocess import check_output as sh

    async def handler():
        rq.get("u")
        sleep(1)
        sh(["ls"])

    async def local_imports():
        import requests
        from os import system as run_shell
        requests.post("u")
        run_shell("ls")
    """
    assert codes_by_line(tmp_path, code) == [(6, "FR101"), (7, "FR102"), (8, "FR103"), (13, "FR101"), (14, "FR103")]


def test_shadowing_by_locals_parameters_and_attributes(tmp_path):
    code = """
    import requests
    import time

    class Store:
        def get(self, key):
            return key

    async def local_variable():
        requests = Store()
        requests.get("k")

    async def parameter(requests, time):
        requests.get("k")
        time.sleep(1)

    async def attribute(self):
        self.requests.get("k")
        self.time.sleep(1)

    async def loop_variable(items):
        for requests in items:
            requests.get("k")

    async def later_assignment():
        requests.get("k")
        requests = Store()
    """
    assert codes_by_line(tmp_path, code) == []


def test_project_module_named_like_a_library(tmp_path):
    code = """
    from . import time
    from .requests import get

    async def handler():
        time.sleep(1)
        get("u")
    """
    extra = {
        "app/time.py": "def sleep(seconds):\n    return seconds\n",
        "app/requests.py": "def get(url):\n    return url\n",
    }
    assert codes_by_line(tmp_path, code, extra) == []


def test_class_scope_is_not_visible_from_methods(tmp_path):
    code = """
    import requests

    class Client:
        requests = None

        async def fetch(self):
            return requests.get("u")
    """
    assert codes_by_line(tmp_path, code) == [(7, "FR101")]


def test_re_exported_library_module_still_resolves(tmp_path):
    code = """
    from .compat import http

    async def handler():
        http.get("u")
    """
    extra = {"app/compat.py": "import requests as http\n"}
    assert codes_by_line(tmp_path, code, extra) == [(4, "FR101")]


def test_module_variable_built_in_another_module(tmp_path):
    code = """
    from .clients import session, cache

    async def handler():
        session.get("u")
        cache.get("k")
    """
    extra = {"app/clients.py": "import requests\nimport redis\nsession = requests.Session()\ncache = redis.Redis()\n"}
    assert codes_by_line(tmp_path, code, extra) == [(4, "FR101"), (5, "FR106")]


def test_lambdas_nested_defs_and_comprehensions(tmp_path):
    code = """
    import requests
    from fastapi.concurrency import run_in_threadpool

    async def handler(urls):
        await run_in_threadpool(lambda: requests.get("u"))
        def later():
            return requests.get("u")
        pages = [requests.get(u) for u in urls]
        return later, pages
    """
    assert codes_by_line(tmp_path, code) == [(8, "FR101")]


def test_instance_attributes_and_annotations(tmp_path):
    code = """
    import httpx
    from typing import Optional

    class Upstream:
        def __init__(self):
            self.client = httpx.Client()

        async def ping(self):
            return self.client.get("/ping")

    async def injected(client: Optional[httpx.Client] = None, other: "httpx.Client | None" = None):
        client.get("/a")
        other.get("/b")

    async def async_client(client: httpx.AsyncClient):
        await client.get("/c")
    """
    assert codes_by_line(tmp_path, code) == [(9, "FR101"), (12, "FR101"), (13, "FR101")]


def test_sync_routes_and_dependencies_are_not_checked(tmp_path):
    code = """
    import requests
    from fastapi import APIRouter, Depends

    router = APIRouter()

    def get_data():
        return requests.get("u").json()

    @router.get("/sync")
    def sync_route(data=Depends(get_data)):
        return requests.get("u").json()
    """
    assert codes_by_line(tmp_path, code) == []


def test_module_names_and_display_paths_from_strings_match_pathlib(tmp_path):
    """engine.display_path and discovery.module_name(resolved=True) work on strings (a run does it
    for every file): the same answers as the pathlib way."""
    from pathlib import Path

    from fastapi_reviewer.discovery import module_name
    from fastapi_reviewer.engine import display_path

    root = tmp_path.resolve()
    cases = ["app/main.py", "app/__init__.py", "src/pkg/mod.py", "src/__init__.py", "src.py", "a/b.c.py", "stubs/x.pyi", "my-dir/mod.py"]
    for rel in cases:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
        assert module_name(path, root, resolved=True) == module_name(path, root) == _pathlib_module_name(path, root), rel
        assert display_path(path, root) == path.relative_to(root).as_posix()
    outside = tmp_path.parent / "elsewhere.py"
    assert module_name(outside, root, resolved=True) == ("elsewhere", False)
    assert display_path(outside, root) == outside.as_posix()
    assert display_path(root, root) == "."
    assert display_path(Path(str(root) + "x") / "m.py", root) == (Path(str(root) + "x") / "m.py").as_posix()  # a sibling with the same prefix


def _pathlib_module_name(path, root):  # type: ignore[no-untyped-def]
    """The pathlib way module_name used to take (the reference for the string version)."""
    rel = path.resolve().relative_to(root)
    parts = list(rel.with_suffix("").parts)
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    is_package = bool(parts) and parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(p for p in parts if p.isidentifier() or p), is_package
