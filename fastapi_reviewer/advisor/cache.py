"""Replies cached on disk by prompt hash: an identical second run sends nothing."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from fastapi_reviewer.advisor.models import Advice


def cache_key(model: str, system: str, user: str, template_version: str) -> str:
    """sha256 of the model, the full prompt text and the template version."""
    payload = json.dumps([model, system, user, template_version], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ReplyCache:
    def __init__(self, directory: Path, enabled: bool = True) -> None:
        self.directory = directory
        self.enabled = enabled

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Advice | None:
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Advice.model_validate(data["advice"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None  # missing, unreadable or from an older format: ask again

    def put(self, key: str, advice: Advice, model: str) -> str | None:
        """Store atomically (temp file + rename). Returns a warning instead of raising."""
        if not self.enabled:
            return None
        path = self._path(key)
        body = json.dumps({"model": model, "advice": advice.model_dump(mode="json")}, ensure_ascii=False, indent=1)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(body)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            return f"LLM cache not written ({self.directory}): {exc.strerror or exc}"
        return None
