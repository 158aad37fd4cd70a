"""A function run in a forked copy of this process, its result read back when wanted.

The engine uses it for one rule family (engine.py): after the project index and the FastAPI
model are built, a fork sees all of them for free (copy-on-write), checks the Celery tasks on one
CPU while this process checks everything else on the other, and hands back only its findings.

Whatever goes wrong on the way -- no ``fork`` on this platform, other threads alive (forking
them is unsafe), the child killed or failing, a result that does not unpickle -- ``result`` runs
the function here instead: the same answer, or the same error, as without the fork.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Linux (``fork`` is cheap and copy-on-write there) and this thread alone in the process."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


class Forked(Generic[T]):
    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        self.pid: int | None = None
        self.fd: int | None = None
        if not can_fork():
            return
        try:
            read, write = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: compute, send, and leave without running any clean-up of the parent's
            try:
                os.close(read)
                try:
                    payload = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:  # noqa: BLE001 - reported as a failure: the parent runs fn itself
                    payload = pickle.dumps((False, None))
                view = memoryview(payload)
                while view:
                    view = view[os.write(write, view) :]
            finally:
                os._exit(0)
        os.close(write)
        self.pid, self.fd = pid, read

    @property
    def forked(self) -> bool:
        return self.pid is not None

    def result(self) -> T:
        if self.pid is None or self.fd is None:
            return self.fn()
        chunks = []
        try:
            while True:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            chunks = []
        finally:
            self.close()
        try:
            ok, value = pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - a child that died half-way: nothing usable
            ok, value = False, None
        return value if ok else self.fn()  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop listening and reap the child (idempotent; a child still writing gets EPIPE and ends)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.pid is not None:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = None
