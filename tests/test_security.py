"""FR6xx across modules: constants imported from a config module, app factories, test files."""

from __future__ import annotations

from helpers import run, write_project

from fastapi_reviewer.config import Settings

SETTINGS = Settings(cache=False, select=["FR601", "FR602", "FR603"])


def found(tmp_path, files):
    write_project(tmp_path, files)
    return sorted((f.path, f.line, f.code) for f in run(tmp_path, SETTINGS))


def test_constants_from_a_config_module(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/core/__init__.py": "from app.core.config import ORIGINS, SECRET_KEY\n",
        "app/core/config.py": """
            SECRET_KEY = "dev-secret-please-change"
            ORIGINS = ["*"]
            ALGORITHM = "HS256"
        """,
        "app/auth.py": """
            import jwt
            from app.core import SECRET_KEY
            from app.core.config import ALGORITHM

            def token(sub: str) -> str:
                return jwt.encode({"sub": sub}, SECRET_KEY, algorithm=ALGORITHM)
        """,
        "app/main.py": """
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware
            from app.core.config import ORIGINS

            def create_app() -> FastAPI:
                app = FastAPI()
                app.add_middleware(CORSMiddleware, allow_origins=ORIGINS, allow_credentials=True)
                return app
        """,
    }
    write_project(tmp_path, files)
    findings = run(tmp_path, SETTINGS)
    assert sorted((f.path, f.line, f.code) for f in findings) == [("app/auth.py", 6, "FR603"), ("app/main.py", 7, "FR601")]
    secret = next(f for f in findings if f.code == "FR603")
    assert "`SECRET_KEY`" in secret.message and "dev-secret" not in secret.message


def test_test_files_are_not_checked(tmp_path):
    files = {
        "app/__init__.py": "",
        "tests/__init__.py": "",
        "tests/conftest.py": """
            import jwt
            from fastapi import FastAPI

            app = FastAPI(debug=True)

            def token() -> str:
                return jwt.encode({}, "test-secret", algorithm="HS256")
        """,
        "app/test_utils.py": """
            import jwt

            def make() -> str:
                return jwt.encode({}, "fixture", algorithm="HS256")
        """,
    }
    assert found(tmp_path, files) == []


def test_dev_entry_point_called_from_another_modules_main_guard_is_still_reported(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/server.py": """
            import uvicorn

            def serve() -> None:
                uvicorn.run("app.main:app", reload=True)
        """,
        "app/cli.py": """
            from app.server import serve

            def main() -> None:
                serve()
        """,
        "app/dev.py": """
            import uvicorn

            def dev() -> None:
                uvicorn.run("app.main:app", reload=True)

            if __name__ == "__main__":
                dev()
        """,
    }
    assert found(tmp_path, files) == [("app/server.py", 4, "FR602")]
