"""9.4 外部损失成本 (external failure cost) per quarter, by the five items of GB/T 13339.

- 保修费用 = the cost of the free on-site services in warranty (records/reports/case_costs.py:
  audited expenses + parts at catalogue cost + labour) confirmed in the quarter;
- 索赔费用, 退货损失, 诉讼费用, 降价损失 = the entries of 技质部 / 财务部 dated in the quarter
  (records/reports/failure_entries.py; reversed ones left out);
- supplier recoveries (3.1) recovered in the quarter are a deduction (the claims' own figures,
  ``supplier_recoveries``: the one call site);
- shown apart, outside the five items: the free services the VP approved out of warranty (6.2.4)
  and the paid services' cost net of their revenue;
- 外部损失成本 = the five items − the recoveries; 外部损失率 = 外部损失成本 ÷ the quarter's
  工业总产值 when 财务部 entered it (GLOSSARY).

Totals per model, per cause category (``case["classification"]["cause_category"]``, 「未分类」
when absent) and per customer: each amount goes to its case's (an entry linked to a customer
only goes to that customer, its model and cause 「未关联案例」). Periods (GLOSSARY): a case's
cost in the quarter of its confirmation, an entry in the quarter of its date, a recovery in the
quarter it was recovered; cancelled and merged cases never count.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from records.calendar.periods import Period, parse_quarter
from records.calendar.workdays import WorkCalendar
from records.cases.vocab import TABLE as CASES
from records.catalog import categories
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.core.store import Store
from records.materials import claims

from . import case_costs as cc
from . import failure_entries as fe
from .sections import Section

CLAUSE = "9.4"
UNCLASSIFIED = "未分类"
UNLINKED = "（未关联案例）"
RECOVERIES = "供应商追回（扣减）"


@dataclass(frozen=True)
class Share:
    """One amount attributed to a model, a cause category and a customer (recoveries negative)."""

    item: str
    amount: Decimal
    model: str
    cause: str
    customer: str


@dataclass(frozen=True)
class QuarterCost:
    label: str
    start: date
    end: date
    items: tuple[tuple[str, Decimal], ...]  # the five items, in fe.ITEMS order
    recoveries: Decimal  # a positive amount, deducted
    free: tuple[cc.CaseCost, ...]  # 保修费用's cases
    free_approved: tuple[cc.CaseCost, ...]  # shown apart
    paid: tuple[cc.CaseCost, ...]  # shown apart, net of revenue
    entries: tuple[dict, ...]  # the quarter's entries, reversed ones included (marked)
    output: Decimal | None  # 工业总产值, when entered
    shares: tuple[Share, ...]

    @property
    def gross(self) -> Decimal:
        return cc.money(sum((v for _, v in self.items), cc.ZERO))

    @property
    def total(self) -> Decimal:
        """外部损失成本: the five items less the supplier recoveries."""
        return cc.money(self.gross - self.recoveries)

    @property
    def loss_rate(self) -> Decimal | None:
        """外部损失率 as a fraction (None until 财务部 enters the 工业总产值)."""
        return None if not self.output else self.total / self.output

    @property
    def missing(self) -> tuple[tuple[str, str], ...]:
        """(case number, part) of every part counted 0 for want of a catalogue cost (flagged)."""
        return tuple((c.number, p) for c in (*self.free, *self.free_approved, *self.paid) for p in c.missing)

    def totals_by(self, key: str) -> tuple[tuple[str, Decimal], ...]:
        """Totals per ``key`` ("model" | "cause" | "customer"), largest first."""
        sums: dict[str, Decimal] = {}
        for s in self.shares:
            name = getattr(s, key)
            sums[name] = sums.get(name, cc.ZERO) + s.amount
        return tuple(sorted(((k, cc.money(v)) for k, v in sums.items()), key=lambda kv: (-kv[1], kv[0])))


def where(case: dict | None, products: Mapping[int, dict], customers: Mapping[int, str],
          cause_names: Mapping[str, str]) -> tuple[str, str, str]:
    """(model, cause category, customer) of a case, read defensively."""
    if case is None:
        return UNLINKED, UNLINKED, UNLINKED
    product = products.get(case.get("product_id")) or {}
    model = product.get("model") or case.get("product_label") or "（无产品）"
    code = (case.get("classification") or {}).get("cause_category")
    cause = cause_names.get(code, code) if code else UNCLASSIFIED
    return model, cause, customers.get(case.get("customer_id"), "（无顾客单位）")


def quarter_costs(label: str, cases: Iterable[dict], cost: Callable[[dict], cc.CaseCost], entries: Iterable[dict],
                  recoveries: Iterable[Mapping], output: object, products: Mapping[int, dict],
                  customers: Mapping[int, str], cause_names: Mapping[str, str]) -> QuarterCost:
    """9.4: the quarter ``label`` ("2026Q4"): pure over what the caller passes (``cost`` costs one case;
    ``recoveries`` are those recovered in the quarter, ``{"case_id", "amount", ...}``)."""
    start, end = parse_quarter(label)
    by_id = {}
    kinds: dict[str, list[cc.CaseCost]] = {cc.FREE: [], cc.FREE_APPROVED: [], cc.PAID: []}
    shares = []
    for case in cases:
        by_id[case.get("id")] = case
        if not cc.counts_in(case, start, end):
            continue
        c = cost(case)
        kinds[c.kind].append(c)
        if c.kind == cc.FREE:
            shares.append(Share(fe.WARRANTY, c.total, *where(case, products, customers, cause_names)))
    sums = {k: cc.ZERO for k in fe.ITEMS}
    sums[fe.WARRANTY] = cc.money(sum((c.total for c in kinds[cc.FREE]), cc.ZERO))
    kept = tuple(e for e in entries if e.get("quarter") == label)
    for e in kept:
        if e.get("reversed"):
            continue
        value = cc.money(e.get("amount"))
        sums[e["item"]] += value
        case = by_id.get(e.get("case_id"))
        model, cause, customer = where(case, products, customers, cause_names)
        if case is None and e.get("customer_id"):
            customer = customers.get(e["customer_id"], UNLINKED)
        shares.append(Share(e["item"], value, model, cause, customer))
    recovered = cc.ZERO
    for r in recoveries:
        value = cc.money(r.get("amount"))
        recovered += value
        shares.append(Share("recovery", -value, *where(by_id.get(r.get("case_id")), products, customers, cause_names)))
    return QuarterCost(label, start, end, tuple((k, cc.money(sums[k])) for k in fe.ITEMS), cc.money(recovered),
                       tuple(kinds[cc.FREE]), tuple(kinds[cc.FREE_APPROVED]), tuple(kinds[cc.PAID]), kept,
                       None if output in (None, "") else cc.money(output), tuple(shares))


# --- From the store ------------------------------------------------------------------------------


def supplier_recoveries(source: Store, start: date, end: date) -> list[dict]:
    """The supplier recoveries (3.1) of ``start``..``end``, each in the period it was recovered
    (records/materials/claims.py; GLOSSARY periods)."""
    return claims.recoveries(source, start, end)


def of_quarter(store: Store, label: str, cal: WorkCalendar) -> QuarterCost:
    """The quarter's external failure cost from the store."""
    start, end = parse_quarter(label)
    cost = partial(cc.cost_of, store, cal=cal, schedule=cc.rate_schedule(store), catalogue=cc.catalogue_costs(store))
    output = fe.output_value(store, label)
    return quarter_costs(label, store.scan(CASES), lambda case: cost(case), fe.entries(store, label),
                         supplier_recoveries(store, start, end), output["amount"] if output else None,
                         {p["id"]: p for p in store.scan(PRODUCTS)},
                         {c["id"]: c.get("name", "") for c in store.scan(CUSTOMERS)},
                         categories.names(store, "cause"))


# --- As sections (the quarterly report, 9.2; the page and its workbook) --------------------------


def percent(rate: Decimal | None) -> str:
    return "—（财务部尚未录入工业总产值）" if rate is None else f"{rate * 100:.2f}%"


def sections(q: QuarterCost) -> list[Section]:
    """The quarter's figures as the report's sections: the five items, the loss rate, what is shown
    apart, the totals per model, cause category and customer."""
    rows = tuple((fe.ITEMS[k], v) for k, v in q.items) + ((RECOVERIES, -q.recoveries),)
    missing = f"；{len(q.missing)} 项零部件无目录成本，按 0 计" if q.missing else ""
    out = [Section("failure_costs", f"外部损失成本 {q.label}", ("项目", "金额（元）"), rows,
                   note=f"GB/T 13339 五项；保修费用 = 本季度确认的质保期内免费服务成本（费用核准额 + 零部件目录成本 + 人工费）"
                        f"{missing}", clause=CLAUSE, totals=("外部损失成本合计", q.total)),
           Section("external_loss_rate", "外部损失率", ("外部损失成本（元）", "工业总产值（元）", "外部损失率"),
                   ((q.total, q.output if q.output is not None else "未录入", percent(q.loss_rate)),),
                   note="外部损失率 = 外部损失成本 ÷ 本季度工业总产值（财务部录入）", clause=CLAUSE)]
    apart = (("质保期外经分管副总批准的免费服务（6.2.4）", len(q.free_approved),
              cc.money(sum((c.total for c in q.free_approved), cc.ZERO)), cc.money(0),
              cc.money(sum((c.total for c in q.free_approved), cc.ZERO))),
             ("有偿服务（成本扣除收入）", len(q.paid), cc.money(sum((c.total for c in q.paid), cc.ZERO)),
              cc.money(sum((c.revenue for c in q.paid), cc.ZERO)), cc.money(sum((c.net for c in q.paid), cc.ZERO))))
    out.append(Section("failure_costs_apart", "另列（不计入五项）", ("类别", "案例数", "成本（元）", "收入（元）", "净额（元）"),
                       apart, note="成本按确认季度计；有偿服务收入为顾客确认的报价合计", clause=CLAUSE))
    for key, title, column in (("model", "按型号", "型号"), ("cause", "按原因类别", "原因类别"),
                               ("customer", "按顾客单位", "顾客单位")):
        out.append(Section(f"failure_costs_by_{key}", f"外部损失成本{title}", (column, "金额（元）"),
                           q.totals_by(key), note="保修费用、录入项目，扣除供应商追回", clause=CLAUSE,
                           totals=("合计", q.total)))
    return out


def report_sections(store: Store, period: Period, cal: WorkCalendar) -> list[Section]:
    """Section provider of the quarterly report (9.2): the quarter's external failure cost (9.4)."""
    return sections(of_quarter(store, period.label, cal))
