from __future__ import annotations

from pathlib import Path

from fastapi_reviewer.advisor import Advice, AdviceItem
from fastapi_reviewer.advisor.cache import ReplyCache, cache_key


def test_key_covers_model_prompt_and_template_version() -> None:
    base = cache_key("m", "sys", "user", "1")
    assert len(base) == 64
    assert base == cache_key("m", "sys", "user", "1")
    assert len({base, cache_key("m2", "sys", "user", "1"), cache_key("m", "sys2", "user", "1"),
                cache_key("m", "sys", "user2", "1"), cache_key("m", "sys", "user", "2")}) == 5


def test_round_trip_and_corrupt_entries(tmp_path: Path) -> None:
    cache = ReplyCache(tmp_path / "c")
    advice = Advice(summary="s", items=[AdviceItem(fingerprint="a", explanation="e", fix="f", priority="high", lines=[1, 2])])
    key = cache_key("m", "s", "u", "1")
    assert cache.get(key) is None
    assert cache.put(key, advice, "m") is None
    assert cache.get(key) == advice
    stored = tmp_path / "c" / key[:2] / f"{key}.json"
    assert stored.is_file() and [p.name for p in stored.parent.iterdir()] == [stored.name]
    stored.write_text("{not json")
    assert cache.get(key) is None  # a corrupt entry is a miss, not an error


def test_disabled_cache_and_unwritable_directory(tmp_path: Path) -> None:
    advice = Advice(summary="s", items=[])
    off = ReplyCache(tmp_path / "off", enabled=False)
    assert off.put("k" * 64, advice, "m") is None and off.get("k" * 64) is None
    assert not (tmp_path / "off").exists()
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    warning = ReplyCache(blocker / "sub").put("a" * 64, advice, "m")
    assert warning is not None and warning.startswith("LLM cache not written (")
