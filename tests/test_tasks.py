"""FR4xx across modules: Celery apps, tasks, helpers and routes in different files."""

from __future__ import annotations

from helpers import run, write_project

from fastapi_reviewer.celery_model import build_celery_model
from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan as engine_scan

CELERY_APP = """
    from celery import Celery

    celery_app = Celery("worker", broker="redis://localhost", backend="redis://localhost")
"""


def scan(tmp_path, files, select=("FR4",)):
    write_project(tmp_path, {"app/__init__.py": "", **files})
    return run(tmp_path, Settings(cache=False, select=list(select)))


def found(findings, path=None):
    return sorted((f.path, f.line, f.code) for f in findings if path is None or f.path == path)


def tasks_of(tmp_path, files):
    write_project(tmp_path, {"app/__init__.py": "", **files})
    result = engine_scan([tmp_path], Settings(cache=False), cwd=tmp_path)
    return build_celery_model(result.index)


def test_app_imported_from_another_module_and_helpers_elsewhere(tmp_path):
    files = {
        "app/worker.py": CELERY_APP,
        "app/clients.py": """
            import requests

            def fetch_rates(base):
                return requests.get(f"https://rates.example.com/{base}", timeout=5).json()
            """,
        "app/tasks.py": """
            from app.worker import celery_app
            from .clients import fetch_rates

            @celery_app.task(name="rates.refresh")
            def refresh(base: str) -> dict:
                return fetch_rates(base)

            @celery_app.task
            def total(values: list[int]) -> int:
                return sum(values)
            """,
    }
    findings = scan(tmp_path, files)
    assert found(findings) == [("app/tasks.py", 4, "FR401")]
    finding = findings[0]
    assert "refresh" in finding.message and "fetch_rates" in finding.message
    assert [(s.path, s.line, s.function) for s in finding.trace] == [
        ("app/tasks.py", 4, "refresh"),
        ("app/tasks.py", 6, "refresh"),
        ("app/clients.py", 4, "fetch_rates"),
    ]


def test_task_recognition_forms(tmp_path):
    files = {
        "app/worker.py": """
            from celery import Celery, current_app

            class AppCelery(Celery):
                pass

            def make_celery():
                app = Celery("worker")
                app.conf.update(task_acks_late=True)
                return app

            made = make_celery()
            sub = AppCelery("sub")
            current = current_app
            """,
        "app/tasks.py": """
            from celery import shared_task
            from celery import Celery as Factory
            from app import worker
            from app.worker import made, sub

            direct = Factory("direct")

            @made.task
            def by_factory(): ...

            @sub.task(bind=True)
            def by_subclass(self): ...

            @worker.current.task
            def by_current_app(): ...

            @shared_task()
            def shared(): ...

            @direct.task(ignore_result=True)
            def aliased(): ...

            def plain(): ...

            def registered(): ...

            def registered_with_options(): ...

            registered_task = direct.task(registered)
            option_task = direct.task(bind=True, autoretry_for=(OSError,))(registered_with_options)

            class NotCelery:
                def task(self, fn):
                    return fn

            other = NotCelery()

            @other.task
            def not_a_task(): ...
            """,
    }
    model = tasks_of(tmp_path, files)
    names = {full.removeprefix("app.tasks."): info for full, info in model.tasks.items()}
    assert set(names) == {
        "by_factory", "by_subclass", "by_current_app", "shared", "aliased", "registered", "registered_with_options",
    }
    assert names["by_subclass"].bound and names["by_subclass"].self_name == "self"
    assert names["registered_with_options"].retry_policy is not None
    assert names["registered_with_options"].bound


def test_retrying_base_classes_from_other_modules(tmp_path):
    files = {
        "app/base.py": """
            from celery import Task

            class RetryOnNetwork(Task):
                autoretry_for = (ConnectionError, TimeoutError)
                retry_backoff = True

            class RetriesItself(Task):
                def __call__(self, *args, **kwargs):
                    try:
                        return super().__call__(*args, **kwargs)
                    except ConnectionError as exc:
                        raise self.retry(exc=exc)

            class Plain(Task):
                acks_late = True
            """,
        "app/worker.py": """
            from celery import Celery
            from app.base import RetryOnNetwork

            celery_app = Celery("worker")
            defaulted = Celery("defaulted", task_cls=RetryOnNetwork)
            """,
        "app/tasks.py": """
            import requests
            from app.base import Plain, RetriesItself, RetryOnNetwork
            from app.worker import celery_app, defaulted

            @celery_app.task(base=RetryOnNetwork)
            def a(url):
                return requests.get(url, timeout=5).text

            @celery_app.task(base=RetriesItself)
            def b(url):
                return requests.get(url, timeout=5).text

            @defaulted.task
            def c(url):
                return requests.get(url, timeout=5).text

            @celery_app.task(base=Plain)
            def d(url):
                return requests.get(url, timeout=5).text
            """,
    }
    assert found(scan(tmp_path, files)) == [("app/tasks.py", 17, "FR401")]


def test_waits_across_modules(tmp_path):
    files = {
        "app/worker.py": CELERY_APP,
        "app/tasks.py": """
            from app.worker import celery_app

            @celery_app.task
            def square(n: int) -> int:
                return n * n
            """,
        "app/waiting.py": """
            from celery.result import AsyncResult

            def wait_for(task_id):
                return AsyncResult(task_id).get(timeout=5)
            """,
        "app/pipeline.py": """
            from app.worker import celery_app
            from app.waiting import wait_for
            from app import tasks

            @celery_app.task
            def chained(task_id):
                return wait_for(task_id)
            """,
        "app/api.py": """
            from fastapi import FastAPI
            from app.tasks import square
            from app import waiting

            app = FastAPI()

            @app.get("/square/{n}")
            async def square_now(n: int):
                return square.apply_async((n,)).get(timeout=10)

            @app.get("/wait/{task_id}")
            async def wait(task_id: str):
                return waiting.wait_for(task_id)

            @app.get("/sync/{n}")
            def square_sync(n: int):
                return square.delay(n).get(timeout=10)

            @app.post("/enqueue/{n}")
            async def enqueue(n: int):
                return {"id": square.delay(n).id}
            """,
    }
    findings = scan(tmp_path, files)
    assert found(findings) == [
        ("app/api.py", 9, "FR404"),
        ("app/api.py", 13, "FR404"),
        ("app/pipeline.py", 5, "FR403"),
    ]
    transitive = next(f for f in findings if f.line == 13)
    assert transitive.trace[-1].path == "app/waiting.py" and transitive.trace[-1].line == 4
    in_task = next(f for f in findings if f.code == "FR403")
    assert "line 7" in in_task.message and in_task.trace[-1].path == "app/waiting.py"


def test_swallowing_and_retry_without_raise(tmp_path):
    files = {
        "app/worker.py": CELERY_APP,
        "app/tasks.py": """
            import logging

            import requests
            from celery import Task
            from app.worker import celery_app

            log = logging.getLogger(__name__)

            @celery_app.task(
                bind=True,
                max_retries=3,
            )
            def sync(self, url):
                try:
                    return requests.get(url, timeout=5).json()
                except requests.Timeout as exc:
                    self.retry(exc=exc)
                except Exception:
                    log.exception("sync failed")
                    return None

            class Import(Task):
                name = "import"

                def run(self, path):
                    try:
                        return open(path).read()
                    except OSError as exc:
                        raise self.retry(exc=exc)

            celery_app.register_task(Import())
            """,
    }
    findings = scan(tmp_path, files)
    assert found(findings) == [("app/tasks.py", 9, "FR402"), ("app/tasks.py", 17, "FR405")]
    swallow = next(f for f in findings if f.code == "FR402")
    assert "line 18" in swallow.message


def test_clients_in_tasks_and_worker_init_are_not_per_request(tmp_path):
    files = {
        "app/worker.py": """
            import httpx
            import redis
            from celery import Celery
            from celery.signals import worker_process_init

            celery_app = Celery("worker")
            clients = {}

            @worker_process_init.connect
            def init_worker(**kwargs):
                clients["http"] = httpx.Client()
                clients["redis"] = redis.Redis()

            @celery_app.task(autoretry_for=(httpx.HTTPError,))
            def ping(url):
                with httpx.Client() as client:
                    return client.get(url).status_code
            """,
    }
    assert found(scan(tmp_path, files, select=("FR3", "FR4"))) == []


def test_periodic_tasks_are_retried_by_their_schedule(tmp_path):
    files = {
        "app/names.py": """
            class TaskName:
                CLEANUP = "cleanup"
            """,
        "app/worker.py": CELERY_APP,
        "app/tasks.py": """
            import requests
            from app.names import TaskName
            from app.worker import celery_app

            @celery_app.task(name=TaskName.CLEANUP)
            def cleanup():
                requests.delete("https://example.com/tmp", timeout=5)

            @celery_app.task
            def heartbeat():
                requests.post("https://example.com/alive", timeout=5)

            @celery_app.task(name="reports.nightly")
            def nightly():
                requests.post("https://example.com/report", timeout=5)

            @celery_app.task
            def hourly():
                requests.post("https://example.com/hourly", timeout=5)

            @celery_app.task
            def on_signup(user_id: int):
                requests.post("https://example.com/welcome", json={"id": user_id}, timeout=5)
            """,
        "app/beat.py": """
            from celery.schedules import crontab
            from app.names import TaskName
            from app.worker import celery_app
            from app import tasks

            celery_app.conf.beat_schedule = {
                "cleanup": {"task": TaskName.CLEANUP, "schedule": 60.0},
                "nightly": {"task": "reports.nightly", "schedule": crontab(hour=3, minute=0)},
                "heartbeat": dict(task=tasks.heartbeat.name, schedule=30.0),
            }

            @celery_app.on_after_configure.connect
            def setup_periodic_tasks(sender, **kwargs):
                sender.add_periodic_task(3600.0, tasks.hourly.s(), name="hourly")
            """,
    }
    assert found(scan(tmp_path, files)) == [("app/tasks.py", 21, "FR401")]


def test_work_enqueued_only_by_periodic_tasks_is_reconciled(tmp_path):
    files = {
        "app/worker.py": CELERY_APP,
        "app/tasks.py": """
            import requests
            from fastapi import FastAPI
            from app.worker import celery_app

            api = FastAPI()

            @celery_app.task(name="sync.check")
            def check_for_sync():
                for item in requests.get("https://example.com/pending", timeout=5).json():
                    _dispatch(item)

            def _dispatch(item):
                celery_app.send_task("sync.one", args=[item])

            @celery_app.task(name="sync.one")
            def sync_one(item):
                requests.post("https://example.com/sync", json=item, timeout=5)

            @celery_app.task
            def sync_both(item):
                requests.post("https://example.com/sync", json=item, timeout=5)

            @celery_app.task(name="digest.check")
            def check_digest():
                sync_both.delay({"digest": True})

            @api.post("/sync")
            async def sync_now(item: dict):
                sync_both.delay(item)

            def schedule():
                entry = {"schedule": 60.0}
                entry["task"] = "sync.check"
                celery_app.conf.beat_schedule = {"check": entry, "digest": {"task": "digest.check", "schedule": 60.0}}
            """,
    }
    assert found(scan(tmp_path, files)) == [("app/tasks.py", 19, "FR401")]


def test_test_files_are_not_reviewed(tmp_path):
    files = {
        "app/worker.py": CELERY_APP,
        "tests/test_worker.py": """
            import requests
            from celery.result import AsyncResult
            from app.worker import celery_app

            @celery_app.task(bind=True)
            def flaky(self, url):
                try:
                    return requests.get(url, timeout=1).text
                except Exception:
                    self.retry()

            async def test_waits():
                return AsyncResult("x").get(timeout=1)
            """,
    }
    assert found(scan(tmp_path, files)) == []


def test_a_project_that_never_imports_celery_gets_an_empty_model_without_a_build(tmp_path, monkeypatch):
    from fastapi_reviewer import celery_model

    def refuse(index):  # type: ignore[no-untyped-def]
        raise AssertionError("the Celery model was built for a project without celery")

    monkeypatch.setattr(celery_model, "_Builder", refuse)
    files = {"app/jobs.py": "import dramatiq\n\n\n@dramatiq.actor\ndef send(x):\n    return x\n", "app/celery_like.py": "import celeryish\n"}
    model = tasks_of(tmp_path, files)
    assert model.tasks == {} and model.apps == {}
    assert not model.driven_by_schedule("app.jobs.send")


def test_celery_imported_only_inside_a_function_still_counts(tmp_path):
    files = {
        "app/worker.py": """
            def make():
                from celery import shared_task

                @shared_task
                def ping():
                    return 1

                return ping
        """,
    }
    assert "app.worker.make.ping" in tasks_of(tmp_path, files).tasks
