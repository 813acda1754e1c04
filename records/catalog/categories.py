"""The company's category lists (GLOSSARY 故障类别 / 原因类别): the ONE list of cause categories the
whole app uses (3.1 inspections, 9.3 statistics, 9.4 costs) and the list of fault categories (9.3).

技质部经理 keeps both lists. An entry is never deleted: it is retired, so every record that
already names it still reads, while new records may no longer choose it. Each entry has a stable
``code`` (what records store) and a ``name`` (what people read, may be renamed).

Stored as one document per list in table ``category_lists``::

    {"kind": "cause", "entries": [{"code": "design", "name": "设计", "retired": false}, ...]}

A list never changed is its seed (below, company practice); the first change stores it.
"""
from __future__ import annotations

from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction

TABLE = "category_lists"

KINDS = {"cause": "原因类别", "fault": "故障类别"}

# Company practice (issues 16 and 17), not the regulation: the seeds of a fresh installation.
SEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "cause": (("design", "设计"), ("process", "制造工艺"), ("bought_in", "外购件"), ("outsourced", "外协件"),
              ("misuse", "使用维护不当"), ("transport", "运输"), ("unknown", "不明")),
    "fault": (("power", "电源"), ("signal", "信号处理"), ("structure", "结构"), ("software", "软件"),
              ("connector", "连接器")),
}

# Causes that point at a supplier's part: an inspection naming one may lead to a supplier claim (3.1).
SUPPLIER_CAUSES = ("bought_in", "outsourced")

MAX_NAME = 30


class CategoryError(DomainError):
    pass


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise CategoryError(f"没有这种类别表：{kind}", "kind")
    return kind


def _stored(source: Store | Transaction, kind: str) -> dict | None:
    return next((d for d in source.scan(TABLE) if d.get("kind") == kind), None)


def entries(source: Store | Transaction, kind: str, include_retired: bool = False) -> list[dict]:
    """The entries of one list in their order: ``{"code", "name", "retired"}``."""
    doc = _stored(source, _kind(kind))
    rows = doc["entries"] if doc else [{"code": c, "name": n, "retired": False} for c, n in SEEDS[kind]]
    return [dict(e) for e in rows if include_retired or not e.get("retired")]


def names(source: Store | Transaction, kind: str) -> dict[str, str]:
    """code → name for every entry, retired ones included (records keep naming them)."""
    return {e["code"]: e["name"] for e in entries(source, kind, include_retired=True)}


def name_of(source: Store | Transaction, kind: str, code: str | None) -> str:
    """What people read for a stored code: the name, 「（已停用）」 after a retired one; "" for none."""
    if not code:
        return ""
    entry = next((e for e in entries(source, kind, include_retired=True) if e["code"] == code), None)
    if entry is None:
        return code
    return entry["name"] + ("（已停用）" if entry.get("retired") else "")


def choices(source: Store | Transaction, kind: str, keep: str | None = None) -> list[tuple[str, str]]:
    """(code, name) for a select: the active entries, plus ``keep`` (the record's current value)
    when it has been retired since, so editing a record never silently changes it."""
    rows = [(e["code"], e["name"]) for e in entries(source, kind)]
    if keep and keep not in {c for c, _ in rows}:
        rows.append((keep, name_of(source, kind, keep)))
    return rows


def check(source: Store | Transaction, kind: str, code: str, field: str | None = None,
          current: str | None = None) -> str:
    """``code`` when it may be chosen now (an active entry, or the record's ``current`` value)."""
    active = {e["code"] for e in entries(source, kind)}
    if code in active or (current and code == current):
        return code
    raise CategoryError(f"请从{KINDS[kind]}表中选择", field or kind)


def _save(tx: Transaction, kind: str, rows: list[dict], note: str) -> list[dict]:
    doc = _stored(tx, kind)
    if doc is None:
        tx.insert(TABLE, {"kind": kind, "entries": rows})
    else:
        tx.update(TABLE, doc["id"], {"entries": rows}, note=note)
    return rows


def _clean_name(rows: list[dict], name: str, code: str | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise CategoryError("请输入名称", "name")
    if len(name) > MAX_NAME:
        raise CategoryError(f"名称不能超过 {MAX_NAME} 个字", "name")
    if any(e["name"] == name and e["code"] != code for e in rows):
        raise CategoryError(f"已有同名类别：{name}", "name")
    return name


def add_tx(tx: Transaction, kind: str, name: str) -> dict:
    """Add an entry at the end of the list; its code is new and never reused."""
    rows = entries(tx, _kind(kind), include_retired=True)
    name = _clean_name(rows, name)
    taken = {e["code"] for e in rows}
    n = len(rows) + 1
    while f"{kind}{n}" in taken:
        n += 1
    entry = {"code": f"{kind}{n}", "name": name, "retired": False}
    _save(tx, kind, [*rows, entry], note=f"新增{KINDS[kind]}：{name}")
    return entry


def _change(tx: Transaction, kind: str, code: str, note: str, **changes) -> dict:
    rows = entries(tx, _kind(kind), include_retired=True)
    entry = next((e for e in rows if e["code"] == code), None)
    if entry is None:
        raise CategoryError(f"没有这个{KINDS[kind]}：{code}", "code")
    if "name" in changes:
        changes["name"] = _clean_name(rows, changes["name"], code)
    entry.update(changes)
    _save(tx, kind, rows, note=note)
    return entry


def rename_tx(tx: Transaction, kind: str, code: str, name: str) -> dict:
    return _change(tx, kind, code, f"{KINDS[kind]}改名：{name}", name=name)


def retire_tx(tx: Transaction, kind: str, code: str) -> dict:
    """Retire an entry: records naming it keep it; new records can no longer choose it."""
    return _change(tx, kind, code, f"停用{KINDS[kind]} {code}", retired=True)


def restore_tx(tx: Transaction, kind: str, code: str) -> dict:
    return _change(tx, kind, code, f"恢复{KINDS[kind]} {code}", retired=False)
