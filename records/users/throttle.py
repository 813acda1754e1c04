"""The login throttle per client address (company parameter, beside the per-account lockout).

After MAX_FAILURES failed logins from one address within WINDOW, that address is refused for
BLOCK, whatever the username and even with the right password: a flood of guesses can no
longer make every login verify a password (the Argon2 work that slowed every page). The state
is one stored document (bookkeeping fields only: no revision, no audit line per attempt), so
it holds across worker processes and restarts. A refused attempt writes nothing.

The address is the client's as the app sees it: behind the HTTPS proxy the app takes it from
the proxy's X-Forwarded-For (app.py, ProxyFix with a set hop count), else from the connection.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from records.core.store import Store

from .accounts import LoginRefused

TABLE = "login_throttle"

# 公司参数 (GLOSSARY: company parameters, not in the regulation; the defaults are company
# practice): ASVS 2.2.1 asks for anti-automation; the refusal message states the numbers.
MAX_FAILURES = 20
WINDOW = timedelta(minutes=10)
BLOCK = timedelta(minutes=15)
THROTTLED = (f"该地址登录失败次数过多（{WINDOW.seconds // 60} 分钟内 {MAX_FAILURES} 次），"
             f"已暂停登录 {BLOCK.seconds // 60} 分钟，请稍后再试")


class Throttled(LoginRefused):
    """A login refused because its address is blocked (the view answers 429)."""


def _entry(doc: dict | None, address: str) -> dict:
    return ((doc or {}).get("_addresses") or {}).get(address) or {}


def blocked_until(store: Store, address: str, now: datetime) -> datetime | None:
    """When the block of ``address`` ends, if it is blocked at ``now``."""
    until = _entry(store.get(TABLE, 1), address).get("blocked_until")
    if until and datetime.fromisoformat(until) > now:
        return datetime.fromisoformat(until)
    return None


def check(store: Store, address: str, now: datetime) -> None:
    """Raise Throttled when ``address`` may not try to log in at ``now`` (reads only)."""
    if blocked_until(store, address, now) is not None:
        raise Throttled(THROTTLED)


def _current(entry: dict, now: datetime) -> dict | None:
    """An address's entry without what has expired at ``now`` (None when nothing is left)."""
    until = entry.get("blocked_until")
    if until and datetime.fromisoformat(until) > now:
        return entry
    recent = [t for t in entry.get("failures") or () if now - datetime.fromisoformat(t) < WINDOW]
    return {"failures": recent} if recent else None


def count_failure(store: Store, address: str, now: datetime) -> bool:
    """Count one failed login from ``address`` at ``now``; True when it blocked the address.

    Entries that have expired (of every address) are dropped in the same write, so the
    document stays small.
    """
    with store.transaction("system") as tx:
        doc = tx.get(TABLE, 1)
        if doc is None:
            doc = tx.insert(TABLE, {"purpose": "按客户端地址限制登录尝试"})
        addresses = {}
        for addr, entry in (doc.get("_addresses") or {}).items():
            kept = _current(entry, now)
            if kept is not None:
                addresses[addr] = kept
        entry = addresses.get(address) or {"failures": []}
        if entry.get("blocked_until"):  # blocked meanwhile (another worker): keep the block as it is
            return False
        failures = [*entry["failures"], now.isoformat()]
        blocked = len(failures) >= MAX_FAILURES
        addresses[address] = {"blocked_until": (now + BLOCK).isoformat()} if blocked else {"failures": failures}
        tx.touch(TABLE, doc["id"], {"_addresses": addresses})
        if blocked:
            tx.event(TABLE, doc["id"], "address_blocked", f"{address}：{WINDOW.seconds // 60} 分钟内登录失败 "
                     f"{MAX_FAILURES} 次，暂停登录 {BLOCK.seconds // 60} 分钟")
    return blocked
