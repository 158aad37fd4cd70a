"""Generate a realistic FastAPI code base to benchmark on.

The layout is the one of a service that grew for a few years::

    <out>/pyproject.toml
    <out>/app/main.py, app/core/{config,security,logging}.py, app/db/{base,session}.py, app/deps.py
    <out>/app/<domain>/{router,service,repository,models,schemas,tasks,deps,utils}.py

Each domain is a package of modules that import one another (router -> service -> repository ->
models, schemas everywhere, tasks -> service) and a few neighbouring domains.  Module sizes follow
a skewed distribution between ~50 and ~400 lines (most around 120-180, a tail of big routers and
services), and a small fraction of async functions call blocking APIs (requests, time.sleep, open,
subprocess, a sync SQLAlchemy session) so the reviewer has something to find.

    python bench/corpus.py [--files 2000] [--seed 7] [--out bench/corpus]

The output is deterministic for a given (files, seed).  The folder is replaced.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
from pathlib import Path

KINDS = ("router", "service", "repository", "models", "schemas", "tasks", "deps", "utils")
NOUNS = (
    "account", "invoice", "order", "payment", "customer", "product", "report", "shipment", "ticket",
    "subscription", "webhook", "organization", "member", "campaign", "coupon", "refund", "dispute",
    "checkout", "benefit", "license", "file", "notification", "audit", "metric", "event", "session",
    "integration", "plan", "price", "discount", "warehouse", "inventory", "review", "comment", "vendor",
)
FIELDS = (
    ("name", "str", "String(128)"), ("email", "str", "String(255)"), ("amount", "int", "Integer"),
    ("currency", "str", "String(3)"), ("status", "str", "String(32)"), ("description", "str | None", "Text"),
    ("quantity", "int", "Integer"), ("is_active", "bool", "Boolean"), ("external_id", "str | None", "String(64)"),
    ("price_cents", "int", "Integer"), ("country", "str", "String(2)"), ("notes", "str | None", "Text"),
)


def _camel(word: str) -> str:
    return "".join(part.capitalize() for part in word.split("_"))


class Writer:
    def __init__(self, rng: random.Random, domain: str, others: list[str]) -> None:
        self.rng = rng
        self.domain = domain
        self.model = _camel(domain)
        self.others = others
        self.lines: list[str] = []

    def emit(self, text: str = "") -> None:
        self.lines.extend(text.split("\n"))

    def fields(self) -> list[tuple[str, str, str]]:
        return self.rng.sample(FIELDS, self.rng.randint(3, 7))

    def blocking(self) -> bool:
        return self.rng.random() < 0.04


def target_lines(rng: random.Random, kind: str) -> int:
    # lognormal-ish: median ~150 lines, clipped to [50, 400]; routers and services a bit bigger
    base = {"router": 190, "service": 210, "repository": 150, "models": 110, "schemas": 110, "tasks": 110, "deps": 80, "utils": 90}[kind]
    value = int(rng.lognormvariate(0, 0.45) * base)
    return max(50, min(400, value))


# ----------------------------------------------------------------------------- module kinds
def gen_models(w: Writer, size: int) -> None:
    w.emit(
        '"""SQLAlchemy models of the {d} domain."""\n\nfrom __future__ import annotations\n\n'
        "import uuid\nfrom datetime import datetime\n\n"
        "from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, func\n"
        "from sqlalchemy.orm import Mapped, mapped_column, relationship\n\n"
        "from app.db.base import Base, TimestampMixin\n".format(d=w.domain)
    )
    i = 0
    while len(w.lines) < size:
        name = w.model if i == 0 else f"{w.model}{_camel(w.rng.choice(NOUNS))}{i}"
        table = f"{w.domain}_{i}" if i else w.domain
        w.emit(f"\n\nclass {name}(TimestampMixin, Base):\n    __tablename__ = \"{table}s\"\n")
        w.emit("    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)")
        for fname, ptype, stype in w.fields():
            nullable = "None" in ptype
            w.emit(f"    {fname}: Mapped[{ptype}] = mapped_column({stype}, nullable={nullable})")
        if i:
            w.emit(f"    {w.domain}_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(\"{w.domain}s.id\"))")
            w.emit(f"    parent: Mapped[{w.model}] = relationship(lazy=\"raise\")")
        w.emit(
            "\n    def __repr__(self) -> str:\n"
            f"        return f\"<{name} id={{self.id}}>\"\n\n"
            "    @property\n    def is_recent(self) -> bool:\n"
            "        return (datetime.utcnow() - self.created_at).days < 7"
        )
        i += 1


def gen_schemas(w: Writer, size: int) -> None:
    w.emit(
        '"""Pydantic schemas of the {d} domain."""\n\nfrom __future__ import annotations\n\n'
        "import uuid\nfrom datetime import datetime\nfrom typing import Annotated, Literal\n\n"
        "from pydantic import BaseModel, ConfigDict, Field, field_validator\n\n"
        "from app.core.schemas import Schema, TimestampedSchema\n".format(d=w.domain)
    )
    i = 0
    while len(w.lines) < size:
        suffix = ("Create", "Update", "Read", "List", "Filter", "Summary")[i % 6]
        name = f"{w.model}{suffix}" + (str(i // 6) if i >= 6 else "")
        base = "TimestampedSchema" if suffix == "Read" else "Schema"
        w.emit(f"\n\nclass {name}({base}):")
        w.emit(f'    """{suffix} payload of a {w.domain}."""\n')
        for fname, ptype, _ in w.fields():
            if w.rng.random() < 0.3:
                w.emit(f"    {fname}: Annotated[{ptype}, Field(description=\"The {fname} of the {w.domain}.\")]")
            elif "None" in ptype:
                w.emit(f"    {fname}: {ptype} = None")
            else:
                w.emit(f"    {fname}: {ptype}")
        if w.rng.random() < 0.5:
            fname = w.rng.choice(FIELDS)[0]
            w.emit(
                f"\n    @field_validator(\"{fname}\", mode=\"before\")\n    @classmethod\n"
                f"    def _check_{fname}(cls, value):\n"
                "        if isinstance(value, str):\n            value = value.strip()\n"
                "        if value == \"\":\n            raise ValueError(\"must not be empty\")\n        return value"
            )
        if suffix == "Read":
            w.emit("\n    model_config = ConfigDict(from_attributes=True)")
        i += 1


def gen_repository(w: Writer, size: int) -> None:
    w.emit(
        '"""Database access for {d}s."""\n\nfrom __future__ import annotations\n\n'
        "import uuid\nfrom collections.abc import Sequence\n\n"
        "from sqlalchemy import delete, func, select, update\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\n"
        f"from app.{w.domain}.models import {w.model}\n"
        "from app.db.repository import RepositoryBase\n".format(d=w.domain)
    )
    w.emit(f"\n\nclass {w.model}Repository(RepositoryBase[{w.model}]):\n    model = {w.model}\n")
    i = 0
    while len(w.lines) < size:
        verb = ("get_by", "list_by", "count_by", "delete_by", "update_status_for", "exists_with")[i % 6]
        field = w.rng.choice(FIELDS)[0]
        fn = f"{verb}_{field}" + (f"_{i}" if i >= 6 else "")
        w.emit(f"\n    async def {fn}(self, session: AsyncSession, value, *, limit: int = 100) -> Sequence[{w.model}]:")
        w.emit(f"        statement = select({w.model}).where({w.model}.{field} == value)")
        if w.rng.random() < 0.5:
            w.emit(f"        statement = statement.order_by({w.model}.created_at.desc()).limit(limit)")
        if verb.startswith("count"):
            w.emit("        result = await session.execute(select(func.count()).select_from(statement.subquery()))\n        return result.scalar_one()")
        elif verb.startswith("delete"):
            w.emit(f"        await session.execute(delete({w.model}).where({w.model}.{field} == value))\n        await session.flush()\n        return []")
        else:
            w.emit("        result = await session.execute(statement)\n        rows = result.scalars().all()")
            w.emit("        if not rows:\n            return []\n        return list(rows)")
        i += 1


def _blocking_snippet(w: Writer, indent: str) -> str:
    choice = w.rng.randrange(6)
    if choice == 0:
        return f"{indent}response = requests.get(settings.{w.domain.upper()}_URL, timeout=10)\n{indent}response.raise_for_status()"
    if choice == 1:
        return f"{indent}time.sleep(0.5)"
    if choice == 2:
        return f"{indent}with open(settings.EXPORT_DIR / \"{w.domain}.csv\") as fh:\n{indent}    content = fh.read()"
    if choice == 3:
        return f"{indent}subprocess.run([\"/usr/bin/env\", \"true\"], check=True)"
    if choice == 4:
        return f"{indent}data = urllib.request.urlopen(settings.{w.domain.upper()}_URL).read()"
    return f"{indent}sync_session = SessionLocal()\n{indent}sync_session.execute(text(\"select 1\"))"


def gen_service(w: Writer, size: int) -> None:
    other = w.rng.choice(w.others)
    w.emit(
        '"""Business logic for {d}s."""\n\nfrom __future__ import annotations\n\n'
        "import logging\nimport subprocess\nimport time\nimport urllib.request\nimport uuid\nfrom collections.abc import Sequence\n\n"
        "import httpx\nimport requests\nfrom sqlalchemy import text\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\n"
        "from app.core.config import settings\nfrom app.db.session import SessionLocal\n"
        f"from app.{w.domain}.models import {w.model}\nfrom app.{w.domain}.repository import {w.model}Repository\n"
        f"from app.{w.domain}.schemas import {w.model}Create, {w.model}Update\n"
        f"from app.{other}.service import {other}_service\n\n"
        "log = logging.getLogger(__name__)\n".format(d=w.domain)
    )
    w.emit(
        f"\n\nclass {w.model}Error(Exception):\n    pass\n\n\nclass {w.model}NotFound({w.model}Error):\n"
        f"    def __init__(self, id: uuid.UUID) -> None:\n        super().__init__(f\"{w.domain} {{id}} not found\")\n        self.id = id\n"
    )
    w.emit(f"\n\nclass {w.model}Service:\n    def __init__(self) -> None:\n        self.repository = {w.model}Repository()\n        self.client = httpx.AsyncClient(timeout=10)\n")
    w.emit(
        f"    async def get(self, session: AsyncSession, id: uuid.UUID) -> {w.model}:\n"
        "        found = await self.repository.get(session, id)\n        if found is None:\n"
        f"            raise {w.model}NotFound(id)\n        return found\n"
    )
    w.emit(
        f"    async def create(self, session: AsyncSession, payload: {w.model}Create) -> {w.model}:\n"
        f"        item = {w.model}(**payload.model_dump())\n        session.add(item)\n        await session.flush()\n"
        f"        log.info(\"created {w.domain} %s\", item.id)\n        return item\n"
    )
    i = 0
    while len(w.lines) < size:
        verb = ("sync", "refresh", "notify", "archive", "recompute", "export", "validate", "reconcile")[i % 8]
        fn = f"{verb}_{w.rng.choice(NOUNS)}" + (f"_{i}" if i >= 8 else "")
        is_async = w.rng.random() < 0.75
        w.emit(f"    {'async ' if is_async else ''}def {fn}(self, session: AsyncSession, item: {w.model}, *, force: bool = False) -> None:")
        w.emit(f'        """{verb.capitalize()} the {w.domain} and its dependants."""')
        w.emit("        if not force and item.status == \"archived\":\n            return None")
        if is_async and w.blocking():
            w.emit(_blocking_snippet(w, "        "))
        if is_async:
            body = w.rng.randrange(4)
            if body == 0:
                w.emit(f"        response = await self.client.post(settings.{w.domain.upper()}_URL, json={{\"id\": str(item.id)}})")
                w.emit("        if response.status_code >= 400:\n            log.warning(\"upstream said %s\", response.status_code)")
            elif body == 1:
                w.emit(f"        related = await self.repository.list_by_status(session, item.status)\n        for other in related:")
                w.emit("            if other.id == item.id:\n                continue\n            other.status = item.status")
                w.emit("        await session.flush()")
            elif body == 2:
                w.emit(f"        await {other}_service.create(session, payload=None)  # type: ignore[arg-type]")
            else:
                w.emit("        try:\n            await session.refresh(item)\n        except Exception:\n"
                       "            log.exception(\"refresh failed\")\n            raise")
        else:
            w.emit("        values = [item.id, item.status]\n        total = 0\n        for value in values:\n"
                   "            total += len(str(value))\n        log.debug(\"computed %d\", total)")
        w.emit("")
        i += 1
    w.emit(f"\n{w.domain}_service = {w.model}Service()")


def gen_router(w: Writer, size: int) -> None:
    w.emit(
        '"""HTTP API of the {d} domain."""\n\nfrom __future__ import annotations\n\n'
        "import time\nimport uuid\nfrom typing import Annotated\n\n"
        "import requests\nfrom fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, status\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n\n"
        "from app.core.config import settings\nfrom app.deps import CurrentUser, get_session\n"
        f"from app.{w.domain} import service as {w.domain}_service_module\n"
        f"from app.{w.domain}.deps import get_{w.domain}_or_404\n"
        f"from app.{w.domain}.schemas import {w.model}Create, {w.model}Read, {w.model}Update\n"
        f"from app.{w.domain}.service import {w.domain}_service\n"
        f"from app.{w.domain}.tasks import process_{w.domain}\n\n"
        f"router = APIRouter(prefix=\"/{w.domain}s\", tags=[\"{w.domain}\"])\n"
        "SessionDep = Annotated[AsyncSession, Depends(get_session)]\n".format(d=w.domain)
    )
    w.emit(
        f"\n\n@router.get(\"/\", response_model=list[{w.model}Read])\n"
        f"async def list_{w.domain}s(session: SessionDep, user: CurrentUser, limit: int = Query(50, le=500)):\n"
        f"    items = await {w.domain}_service.repository.list_by_status(session, \"active\", limit=limit)\n"
        "    return items\n"
    )
    w.emit(
        f"\n@router.post(\"/\", response_model={w.model}Read, status_code=status.HTTP_201_CREATED)\n"
        f"async def create_{w.domain}(payload: {w.model}Create, session: SessionDep, user: CurrentUser, background: BackgroundTasks):\n"
        f"    item = await {w.domain}_service.create(session, payload)\n"
        f"    background.add_task(process_{w.domain}.delay, str(item.id))\n    return item\n"
    )
    i = 0
    while len(w.lines) < size:
        verb = ("get", "patch", "post", "delete", "put")[i % 5]
        path = f"/{{id}}/{w.rng.choice(NOUNS)}" + (f"-{i}" if i >= 5 else "")
        fn = f"{verb}_{w.domain}_{path.split('/')[-1].replace('-', '_')}"
        is_async = w.rng.random() < 0.8
        w.emit(f"\n@router.{verb}(\"{path}\", response_model={w.model}Read)")
        w.emit(f"{'async ' if is_async else ''}def {fn}(")
        w.emit(f"    id: uuid.UUID,\n    session: SessionDep,\n    user: CurrentUser,\n    item=Depends(get_{w.domain}_or_404),")
        if verb in ("patch", "post", "put"):
            w.emit(f"    payload: {w.model}Update | None = None,")
        w.emit("):")
        if is_async and w.blocking():
            w.emit(_blocking_snippet(w, "    "))
        if not is_async:
            w.emit("    return item")
            continue
        body = w.rng.randrange(4)
        if body == 0:
            w.emit(f"    if item.owner_id != user.id:\n        raise HTTPException(status_code=403, detail=\"not yours\")")
            w.emit(f"    await {w.domain}_service.get(session, id)")
        elif body == 1:
            w.emit("    if payload is not None:\n        for key, value in payload.model_dump(exclude_unset=True).items():\n            setattr(item, key, value)")
            w.emit("    await session.flush()")
        elif body == 2:
            w.emit(f"    result = await {w.domain}_service.get(session, id)\n    if result is None:\n        raise HTTPException(status_code=404)")
        else:
            w.emit(f"    process_{w.domain}.delay(str(id))")
        w.emit("    return item")
        i += 1


def gen_tasks(w: Writer, size: int) -> None:
    w.emit(
        '"""Background jobs of the {d} domain."""\n\nfrom __future__ import annotations\n\n'
        "import logging\nimport time\n\nimport requests\n\n"
        "from app.worker import celery_app\nfrom app.db.session import SessionLocal\n"
        f"from app.{w.domain}.models import {w.model}\n\nlog = logging.getLogger(__name__)\n".format(d=w.domain)
    )
    w.emit(
        f"\n\n@celery_app.task(bind=True, max_retries=3)\ndef process_{w.domain}(self, id: str) -> None:\n"
        "    with SessionLocal() as session:\n"
        f"        item = session.get({w.model}, id)\n        if item is None:\n            return\n"
        "        try:\n            item.status = \"processed\"\n            session.commit()\n"
        "        except Exception as exc:\n            raise self.retry(exc=exc, countdown=10)\n"
    )
    i = 0
    while len(w.lines) < size:
        fn = f"{w.rng.choice(('cleanup', 'rebuild', 'sync', 'export', 'notify'))}_{w.rng.choice(NOUNS)}s_{i}"
        w.emit(f"\n@celery_app.task(acks_late=True)\ndef {fn}(batch_size: int = 500) -> int:")
        w.emit("    done = 0\n    with SessionLocal() as session:")
        w.emit(f"        rows = session.query({w.model}).limit(batch_size).all()\n        for row in rows:")
        w.emit("            row.updated_at = None\n            done += 1")
        if w.rng.random() < 0.4:
            w.emit("            time.sleep(0.01)")
        w.emit("        session.commit()\n    log.info(\"%d rows\", done)\n    return done")
        i += 1


def gen_deps(w: Writer, size: int) -> None:
    w.emit(
        '"""FastAPI dependencies of the {d} domain."""\n\nfrom __future__ import annotations\n\n'
        "import uuid\nfrom typing import Annotated\n\nfrom fastapi import Depends, Header, HTTPException\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n\nfrom app.deps import get_session\n"
        f"from app.{w.domain}.models import {w.model}\nfrom app.{w.domain}.service import {w.domain}_service\n".format(d=w.domain)
    )
    w.emit(
        f"\n\nasync def get_{w.domain}_or_404(id: uuid.UUID, session: AsyncSession = Depends(get_session)) -> {w.model}:\n"
        f"    return await {w.domain}_service.get(session, id)\n"
    )
    i = 0
    while len(w.lines) < size:
        name = f"require_{w.rng.choice(NOUNS)}_{i}"
        is_async = w.rng.random() < 0.6
        w.emit(f"\n{'async ' if is_async else ''}def {name}(x_token: Annotated[str | None, Header()] = None) -> str:")
        if is_async and w.blocking():
            w.emit(_blocking_snippet(w, "    "))
        w.emit("    if not x_token:\n        raise HTTPException(status_code=401, detail=\"missing token\")")
        w.emit("    parts = x_token.split(\".\")\n    if len(parts) != 3:\n        raise HTTPException(status_code=401)\n    return parts[1]")
        i += 1


def gen_utils(w: Writer, size: int) -> None:
    w.emit(
        '"""Helpers of the {d} domain."""\n\nfrom __future__ import annotations\n\n'
        "import hashlib\nimport json\nimport re\nfrom datetime import datetime, timezone\nfrom typing import Any\n".format(d=w.domain)
    )
    i = 0
    while len(w.lines) < size:
        kind = i % 4
        if kind == 0:
            w.emit(f"\n\ndef slugify_{i}(value: str) -> str:\n    value = re.sub(r\"[^a-z0-9]+\", \"-\", value.lower())\n    return value.strip(\"-\")")
        elif kind == 1:
            w.emit(f"\n\ndef digest_{i}(payload: dict[str, Any]) -> str:\n    data = json.dumps(payload, sort_keys=True).encode()\n"
                   "    return hashlib.sha256(data).hexdigest()")
        elif kind == 2:
            w.emit(f"\n\ndef utc_now_{i}() -> datetime:\n    return datetime.now(timezone.utc)")
        else:
            w.emit(f"\n\ndef chunks_{i}(items: list[Any], size: int = 100):\n    for start in range(0, len(items), size):\n"
                   "        yield items[start : start + size]")
        i += 1


GENERATORS = {
    "models": gen_models, "schemas": gen_schemas, "repository": gen_repository, "service": gen_service,
    "router": gen_router, "tasks": gen_tasks, "deps": gen_deps, "utils": gen_utils,
}

CORE = {
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/config.py": (
        "from pathlib import Path\n\nfrom pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
        "    DATABASE_URL: str = \"postgresql+asyncpg://localhost/app\"\n    EXPORT_DIR: Path = Path(\"/tmp\")\n\n    def __getattr__(self, name):\n"
        "        return \"http://localhost\"\n\n\nsettings = Settings()\n"
    ),
    "app/core/schemas.py": (
        "from datetime import datetime\n\nfrom pydantic import BaseModel, ConfigDict\n\n\nclass Schema(BaseModel):\n"
        "    model_config = ConfigDict(extra=\"forbid\")\n\n\nclass TimestampedSchema(Schema):\n    created_at: datetime\n    updated_at: datetime | None = None\n"
    ),
    "app/db/__init__.py": "",
    "app/db/base.py": (
        "from datetime import datetime\n\nfrom sqlalchemy import DateTime, func\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\nclass TimestampMixin:\n"
        "    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())\n"
        "    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), onupdate=func.now())\n"
    ),
    "app/db/session.py": (
        "from sqlalchemy import create_engine\nfrom sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\n"
        "from sqlalchemy.orm import sessionmaker\n\nfrom app.core.config import settings\n\n"
        "engine = create_async_engine(settings.DATABASE_URL, pool_pre_ping=True)\nAsyncSessionLocal = async_sessionmaker(engine, expire_on_commit=False)\n"
        "sync_engine = create_engine(settings.DATABASE_URL.replace(\"+asyncpg\", \"\"))\nSessionLocal = sessionmaker(sync_engine)\n"
    ),
    "app/db/repository.py": (
        "from typing import Generic, TypeVar\n\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\nT = TypeVar(\"T\")\n\n\n"
        "class RepositoryBase(Generic[T]):\n    model: type[T]\n\n    async def get(self, session: AsyncSession, id) -> T | None:\n"
        "        return await session.get(self.model, id)\n"
    ),
    "app/deps.py": (
        "from collections.abc import AsyncIterator\nfrom typing import Annotated\n\nfrom fastapi import Depends, Header, HTTPException\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n\nfrom app.db.session import AsyncSessionLocal\n\n\n"
        "async def get_session() -> AsyncIterator[AsyncSession]:\n    async with AsyncSessionLocal() as session:\n        yield session\n\n\n"
        "class User:\n    id: int = 0\n\n\nasync def current_user(authorization: Annotated[str | None, Header()] = None) -> User:\n"
        "    if not authorization:\n        raise HTTPException(status_code=401)\n    return User()\n\n\nCurrentUser = Annotated[User, Depends(current_user)]\n"
    ),
    "app/worker.py": "from celery import Celery\n\ncelery_app = Celery(\"app\", broker=\"redis://localhost:6379/0\")\n",
}


def generate(out: Path, files: int = 2000, seed: int = 7) -> dict[str, int]:
    """Write the corpus; returns counts per kind (and 'lines')."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "app").mkdir(parents=True)
    (out / "pyproject.toml").write_text("[project]\nname = \"bench-app\"\nversion = \"0\"\n")
    written: dict[str, int] = {"lines": 0}

    def write(rel: str, text: str) -> None:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written["lines"] += text.count("\n")

    for rel, text in CORE.items():
        write(rel, text)
    budget = files - len(CORE) - 1  # main.py
    # every domain has __init__, router, service, repository, models, schemas, deps and tasks
    # (the router imports them); utils modules fill up to the requested count
    domains_needed = max(1, round(budget / 8.6))
    names = [f"{NOUNS[i % len(NOUNS)]}" + (f"_{i // len(NOUNS)}" if i >= len(NOUNS) else "") for i in range(domains_needed)]
    plan: list[tuple[str, str]] = []
    for d in names:
        plan.append((d, "__init__"))
        plan.extend((d, kind) for kind in KINDS if kind != "utils")
    extra = 0
    while len(plan) < budget:
        plan.append((names[extra % len(names)], "utils" if extra < len(names) else f"utils{extra // len(names) + 1}"))
        extra += 1
    present = {(d, k) for d, k in plan}
    for d, kind in plan:
        if kind == "__init__":
            write(f"app/{d}/__init__.py", f'"""The {d} domain."""\n')
            continue
        others = [o for o in rng.sample(names, min(3, len(names))) if o != d and (o, "service") in present] or [d]
        w = Writer(rng, d, others)
        base_kind = "utils" if kind.startswith("utils") else kind
        GENERATORS[base_kind](w, target_lines(rng, base_kind))
        write(f"app/{d}/{kind}.py", "\n".join(w.lines) + "\n")
        written[base_kind] = written.get(base_kind, 0) + 1
    routers = [d for d, k in plan if k == "router"]
    main = ["from fastapi import FastAPI\n", *(f"from app.{d}.router import router as {d}_router" for d in routers),
            "\napp = FastAPI(title=\"bench\")\n", *(f"app.include_router({d}_router)" for d in routers)]
    write("app/main.py", "\n".join(main) + "\n")
    # a project is a git work tree: discovery then lists it with `git ls-files` like a real one
    # (and the corpus, inside this repo's ignored bench/corpus/, is not hidden by our .gitignore)
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q", str(out)], check=False)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "corpus")
    args = parser.parse_args()
    counts = generate(args.out, args.files, args.seed)
    total = sum(1 for _ in args.out.rglob("*.py"))
    print(f"{total} files, {counts['lines']} lines in {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "lines"))


if __name__ == "__main__":
    main()
