"""Errors the CLI reports as a user's mistake (exit 2, one line), kept free of imports: the CLI
names them before a run starts, and importing the modules that raise them (the engine, pydantic)
at that point would delay the warm worker's fork (warm.py) by ~0.15 s."""

from __future__ import annotations


class BaselineError(Exception):
    """A baseline file that is missing, unreadable or not a baseline; the message names the file."""


class DiffBaseError(Exception):
    """Not a git work tree, an unknown revision, or git failed; the message says which."""
