"""A plain scan imports the advisor package; that must not load openai, jinja2 or rich."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_advisor_package_import_is_cheap() -> None:
    code = (
        "import json, sys\n"
        "import fastapi_reviewer.advisor as advisor\n"
        "from fastapi_reviewer.advisor import LLMSettings, advise, render_advice_markdown, advice_to_json\n"
        "LLMSettings(**{'max-findings': 3})\n"
        "heavy = [m for m in ('openai', 'jinja2', 'rich', 'httpx2', 'httpx') if m in sys.modules]\n"
        "print(json.dumps(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_disabled_settings_do_nothing_and_import_nothing(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from fastapi_reviewer.advisor import LLMSettings, advise\n"
        "from fastapi_reviewer.findings import Report\n"
        "result = advise(Report.build('0', 0, [], []), Path('.'), LLMSettings(), {})\n"
        "print(json.dumps([result.advice is None, result.requests_sent, 'openai' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [True, 0, False]
