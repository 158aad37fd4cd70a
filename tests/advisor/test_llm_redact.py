from __future__ import annotations

import pytest

from fastapi_reviewer.advisor.redact import REDACTED, redact, redact_lines


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('SECRET_KEY = "super-secret-value"', 'SECRET_KEY = "***REDACTED***"'),
        ("api_key: str = 'abc123'", "api_key: str = '***REDACTED***'"),
        ('client = OpenAI(api_key="not-a-known-shape")', 'client = OpenAI(api_key="***REDACTED***")'),
        ('self.db_password = "pw"', 'self.db_password = "***REDACTED***"'),
        ('settings.auth_token = r"raw-token"', 'settings.auth_token = r"***REDACTED***"'),
        ('if token == "let-me-in":', 'if token == "***REDACTED***":'),
        ('cfg = {"db_passwd": "x1", "host": "db"}', 'cfg = {"db_passwd": "***REDACTED***", "host": "db"}'),
        ('pw = os.getenv("DB_PASSWORD", "changeme")', 'pw = os.getenv("DB_PASSWORD", "***REDACTED***")'),
        ('SALT = b"pepper"', 'SALT = b"***REDACTED***"'),
        ('cred = """tri"""; secret = """very"""', 'cred = """tri"""; secret = """***REDACTED***"""'),
        ("API_TOKEN=abcdef123456", "API_TOKEN=***REDACTED***"),
        ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "export AWS_SECRET_ACCESS_KEY=***REDACTED***"),
        ('h = {"Authorization": "Bearer abcdefghijklmnop"}', 'h = {"Authorization": "Bearer ***REDACTED***"}'),
        ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='", "curl -H 'Authorization: Basic ***REDACTED***'"),
        ('URL = "postgresql://app:s3cr3t@db:5432/app"', 'URL = "postgresql://app:***REDACTED***@db:5432/app"'),
        ('redis = "redis://:hunter2@cache:6379/0"', 'redis = "redis://:***REDACTED***@cache:6379/0"'),
        ('x = "sk-proj-abcdefghijklmnopqrstuvwx"', 'x = "***REDACTED***"'),
        ('x = "AKIAIOSFODNN7EXAMPLE"', 'x = "***REDACTED***"'),
        ('x = "ghp_0123456789abcdefghijABCDEFGHIJ0123"', 'x = "***REDACTED***"'),
        ('x = "github_pat_11ABCDEFG0123456789_abcdefghij"', 'x = "***REDACTED***"'),
        ('x = "xoxb-1234567890-abcdefghij"', 'x = "***REDACTED***"'),
        ('x = "AIzaSyA1234567890abcdefghijklmnopqrstu"', 'x = "***REDACTED***"'),
        (
            'jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"',
            'jwt = "***REDACTED***"',
        ),
        ('pem = b"-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA"  # x', 'pem = b"***REDACTED***"  # x'),
        ("print('key sk-abcdefghijklmnopqrstuvwx in text')", "print('key ***REDACTED*** in text')"),
    ],
)
def test_redacts_secrets(line: str, expected: str) -> None:
    assert redact(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        'headers = {"Authorization": f"Bearer {token}"}',  # interpolation: code, not a secret
        'user_id = Field(foreign_key="user.id")',
        'oauth2 = OAuth2PasswordBearer(tokenUrl="token")',
        'API_KEY_HEADER_NAME = "X-API-Key"',
        'cache_key = f"user:{uid}"',
        "    password=form.password,",  # a keyword argument, not a .env line
        "DEBUG=true",  # .env line with a harmless name
        'empty_token = ""',
        'r = requests.get("https://api.example.com/w", params={"q": city})',
        "task = celery.send_task('reports.sync')",
        'risk = "sk-short"',
    ],
)
def test_leaves_ordinary_code_alone(line: str) -> None:
    assert redact(line) == line


def test_names_that_sound_secret_are_redacted_even_when_harmless() -> None:
    # documented trade-off: any literal bound to a *key* name is hidden
    assert redact('key = "weather:today"') == f'key = "{REDACTED}"'


def test_multiline_private_key_keeps_line_count() -> None:
    lines = [
        "KEY = '''",
        "-----BEGIN EC PRIVATE KEY-----",
        "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oFqXHkp0cVq8",
        "-----END EC PRIVATE KEY-----",
        "'''",
    ]
    out = redact_lines(lines)
    assert len(out) == 5
    assert out[0] == "KEY = '''" and out[4] == "'''"
    assert out[1:4] == [REDACTED] * 3
    assert "MHcCAQ" not in "\n".join(out)
