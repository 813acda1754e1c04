"""The mail of the notices a request made, sent right after its commit, outside the request.

The app notes the pending mail before a request that may change data and after it; the new
ones go to ``Courier.send``, which runs the outbox's own delivery (``outbox.deliver``) for those
ids only, under the outbox lock the scheduled run takes, so that a message is never sent twice.
Modes: "thread" (a background thread per request, the app's default: the answer does not wait
for the mail server), "sync" (at once, in the caller; tests), "off" (left to the scheduled run).
While another sender holds the lock it tries again every ``retry_every`` seconds for up to
``wait`` seconds, then leaves the mail to the scheduled run, which also retries whatever failed
(server down, mail not configured meanwhile). Errors are logged, never raised. Plain Python.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Iterable

from records.calendar.workdays import now_local
from records.core.store import Store

from .inbox import index
from .outbox import deliver

MODES = ("thread", "sync", "off")
log = logging.getLogger("aftersales.mail")


class Courier:
    """Sends the mail of new notices soon after the commit that made them (see the module)."""

    def __init__(self, store: Store, mode: str = "thread", actor: str = "app", wait: float = 50,
                 retry_every: float = 2):
        if mode not in MODES:
            raise ValueError(f"mode: one of {MODES}")
        self.store, self.mode, self.actor = store, mode, actor
        self.wait, self.retry_every = wait, retry_every
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def pending(self) -> set[int]:
        """The ids of the notices whose mail waits to be sent (committed state)."""
        return set(index(self.store).pending)

    def send(self, ids: Iterable[int]) -> None:
        """Send the mail of the notices ``ids`` (already committed), as the mode says."""
        ids = sorted(set(ids))
        if not ids or self.mode == "off":
            return
        if self.mode == "sync":
            self._run(ids)
            return
        thread = threading.Thread(target=self._run, args=(ids,), name="aftersales-mail", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _run(self, ids: list[int]) -> dict | None:
        until = time.monotonic() + self.wait
        try:
            while True:
                result = deliver(self.store, now_local(), actor=self.actor, ids=ids)
                if not result.get("busy") or time.monotonic() >= until:
                    break
                time.sleep(self.retry_every)  # the scheduled run is sending: try again shortly
            if result.get("error"):
                log.warning("mail of notices %s not sent now: %s (the scheduled run retries)", ids, result["error"])
            return result
        except Exception:  # a sender's failure must never reach the user; the scheduled run retries
            log.exception("mail of notices %s failed (the scheduled run retries)", ids)
            return None

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background senders started so far (tests, shutdown)."""
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
