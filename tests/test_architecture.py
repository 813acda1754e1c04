"""The layout's rules (../shared/design/records-layout.md): layers, cycles, private names, sizes,
and the clause index. import-linter checks the layer contracts of pyproject.toml; the small AST
checks here add what it does not: imports inside functions, private names, module sizes."""
from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from records import clauses
from records.cases.flow import TRANSITIONS
from records.cases.workflow import HANDLERS

PROJECT = Path(__file__).resolve().parents[1]
PACKAGES = ("records", "views", "forms", "scripts")
# Heavy third-party libraries a records/ module may import inside a function (start-up time).
LAZY_OK = {"weasyprint", "openpyxl", "fontTools", "pypdf", "PIL", "zxingcpp", "segno", "holidays"}
MAX_LINES = 400
# Every clause of the regulation that asks something of the system (sections 1, 2 and 4 do not).
REGULATION = (["3.1", "3.2"] + [f"5.1.1.{i}" for i in (1, 2, 3)] + [f"5.2.{i}" for i in range(1, 6)]
              + [f"6.1.{i}" for i in range(1, 6)] + [f"6.2.{i}" for i in range(1, 10)]
              + [f"7.{i}" for i in range(1, 5)] + ["8.1", "8.2"] + [f"9.{i}" for i in range(1, 6)] + ["10", "附"])
PLANNED_AREAS = {"materials", "reports", "archive", "technical_notices", "cases"}


def sources(*roots: str) -> list[Path]:
    out = []
    for root in roots:
        path = PROJECT / root
        out += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return out


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text("utf-8"), str(path))


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return out


def test_no_import_cycle_anywhere():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert _cycles(graph) == []


def _function_imports(module: ast.Module):
    for node in ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    yield inner, [a.name for a in inner.names]
                elif isinstance(inner, ast.ImportFrom):
                    yield inner, ["." * inner.level + (inner.module or "")]


def test_records_imports_project_modules_at_the_top_only():
    bad = []
    for path in sources("records"):
        for node, names in _function_imports(tree(path)):
            for name in names:
                if name.split(".")[0] not in LAZY_OK:
                    bad.append(f"{path.relative_to(PROJECT)}:{node.lineno} {name}")
    assert bad == []


def test_no_private_name_is_imported_from_another_module():
    bad = []
    for path in sources(*PACKAGES, "app.py", "tests"):
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                bad += [f"{path.relative_to(PROJECT)}:{node.lineno} {a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    assert bad == []


def test_modules_stay_small():
    sizes = {str(p.relative_to(PROJECT)): len(p.read_text("utf-8").splitlines())
             for p in sources(*PACKAGES, "app.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


# The homes the layer contract reserves for later issues (records-layout.md: "14 entries, or 17
# with the planned features", plus technical_notices of issue 18). Only they may add to the 14.
PLANNED_PACKAGES = {"reports", "archive", "materials", "technical_notices"}


def test_records_shows_at_most_14_entries_besides_the_planned_packages():
    entries = [p.name for p in (PROJECT / "records").iterdir() if p.name != "__pycache__"]
    assert len([e for e in entries if e not in PLANNED_PACKAGES]) <= 14, sorted(entries)


def test_package_inits_hold_only_a_docstring():
    for path in (PROJECT / "records").rglob("__init__.py"):
        body = tree(path).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), path
        listed = set(re.findall(r"``(\w+)(?:\.py|/)``", body[0].value.value))
        here = {p.stem for p in path.parent.iterdir() if p.suffix == ".py" and p.stem != "__init__"}
        here |= {p.name for p in path.parent.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
        assert here <= listed, f"{path}: not in its map: {sorted(here - listed)}"


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module("records." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise LookupError(dotted)


def _cites(obj, clause: str) -> bool:
    if getattr(obj, "clause", None) == clause:  # a policy.Rule
        return True
    doc = obj.__doc__ or ""
    return re.search(rf"(?<![\d.]){re.escape(clause)}(?![\d])", doc) is not None


@pytest.mark.parametrize("clause", REGULATION)
def test_every_clause_has_an_address(clause):
    names = clauses.CLAUSES[clause]
    assert names, clause
    for name in names:
        if name.startswith("planned: "):
            assert name.removeprefix("planned: ") in PLANNED_AREAS, name
            continue
        assert _cites(_resolve(name), clause), f"{name} does not cite {clause}"


def test_the_clause_index_holds_nothing_else():
    assert set(clauses.CLAUSES) == set(REGULATION)


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_transition_is_indexed_under_its_clause(action):
    t = TRANSITIONS[action]
    if t.clause is None:
        assert action in clauses.NONE
        return
    handler = HANDLERS[action]
    assert f"{handler.__module__.removeprefix('records.')}.{handler.__name__}" in clauses.CLAUSES[t.clause]
    assert _cites(handler, t.clause)
