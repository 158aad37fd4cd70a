"""fastapi-review: a code reviewer for FastAPI services."""

__version__ = "0.1.0"
