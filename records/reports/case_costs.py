"""The cost of one case (9.4), pure over the case document and what the caller passes in.

A case's cost is four parts, each a ``Decimal`` in 元 to the fen:

- **expenses**: the amounts 技质部 approved at the confirmation (6.2.8, ``case["audit"]["lines"]``,
  records/cases/expenses.py), per category; before the confirmation there are none (``audited``
  False: the claim is not a cost until it is audited);
- **parts** at catalogue cost: the parts used, matched to the catalogue by part code or, failing
  that, by name; a part without a cost counts 0 and is flagged (``missing``). The catalogue is
  built in ONE place, ``catalogue_costs`` (the integrator connects records/materials/parts.py there);
- **labour** = working days from the departure to the return × technicians sent × the labour
  rate in force on each day (company parameter ``labour_rate``, 公司参数, set by 财务部, not the
  regulation; its history in records/core/parameters.py). A part day counts as its fraction: the
  working hours between the departure and the return on that day ÷ that day's working hours
  (GLOSSARY working calendar: 08:30–12:00 and 13:30–17:30, 7.5 h); a day off counts 0. A rate
  change counts from the (local) day it was made;
- **revenue** of a paid service: the quote's total (5.2.3, 5.2.4) when the customer accepted it
  (6.2.4); a service the VP approved after a refusal earns nothing.

Periods (GLOSSARY): a case's cost counts in the quarter of its confirmation (6.2.8); cancelled and
merged cases never count (``counts_in``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from records import policy
from records.calendar.workdays import WorkCalendar, parse_local, to_local
from records.cases.expenses import CATEGORIES
from records.cases.flow import collects_fee, is_paid, quote_total
from records.cases.vocab import is_live
from records.core import parameters
from records.core.store import Store
from records.core.transaction import Transaction
from records.materials import parts

FEN = Decimal("0.01")
ZERO = Decimal("0")
LABOUR_RATE = "labour_rate"  # the company parameter (policy.COMPANY_PARAMETERS), 公司参数

# How a case's cost is read in 9.4 (保修费用 or shown apart).
FREE, FREE_APPROVED, PAID = "free", "free_approved", "paid"
KINDS = {FREE: "质保期内免费服务", FREE_APPROVED: "质保期外经分管副总批准的免费服务（6.2.4）", PAID: "有偿服务"}

RateSchedule = tuple[tuple[date, Decimal], ...]  # (in force from, 元 per person and working day), oldest first


def money(value) -> Decimal:
    """A number as 元 to the fen (None → 0)."""
    if value is None:
        return ZERO.quantize(FEN)
    return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PartCost:
    label: str  # what the report says (name or code)
    code: str | None  # the catalogue's part code it matched, None when it matched nothing
    quantity: Decimal
    unit_cost: Decimal | None  # None: no cost in the catalogue (counts 0, flagged)
    amount: Decimal


@dataclass(frozen=True)
class LabourDay:
    day: date
    fraction: Decimal  # of a working day (working hours that day ÷ the day's working hours)
    rate: Decimal


@dataclass(frozen=True)
class CaseCost:
    case_id: int | None
    number: str
    kind: str  # FREE, FREE_APPROVED or PAID
    audited: bool  # whether 技质部 audited the expenses (6.2.8)
    expenses: tuple[tuple[str, Decimal], ...]  # (category code, approved total), in CATEGORIES order
    parts: tuple[PartCost, ...]
    technicians: int
    labour_days: tuple[LabourDay, ...]
    revenue: Decimal  # paid services only, else 0

    @property
    def expenses_total(self) -> Decimal:
        return money(sum((v for _, v in self.expenses), ZERO))

    @property
    def parts_total(self) -> Decimal:
        return money(sum((p.amount for p in self.parts), ZERO))

    @property
    def missing(self) -> tuple[str, ...]:
        """The parts counted 0 because the catalogue has no cost for them (flagged in the report)."""
        return tuple(p.label for p in self.parts if p.unit_cost is None)

    @property
    def working_days(self) -> Decimal:
        return sum((d.fraction for d in self.labour_days), ZERO).quantize(Decimal("0.001"))

    @property
    def labour(self) -> Decimal:
        return money(sum((d.fraction * d.rate for d in self.labour_days), ZERO) * self.technicians)

    @property
    def total(self) -> Decimal:
        """expenses + parts + labour."""
        return money(self.expenses_total + self.parts_total + self.labour)

    @property
    def net(self) -> Decimal:
        """The cost net of the revenue (a paid service's figure in 9.4)."""
        return money(self.total - self.revenue)


# --- The pieces, each pure -----------------------------------------------------------------------


def audited_expenses(case: dict) -> tuple[tuple[str, Decimal], ...]:
    """6.2.8: the approved amounts of the audited lines per category (CATEGORIES order, only the
    categories present); () before the confirmation."""
    lines = (case.get("audit") or {}).get("lines") or []
    sums: dict[str, Decimal] = {}
    for line in lines:
        cat = line.get("category") if line.get("category") in CATEGORIES else "other"
        sums[cat] = sums.get(cat, ZERO) + money(line.get("approved"))
    return tuple((c, money(sums[c])) for c in CATEGORIES if c in sums)


def report_parts(case: dict) -> list[dict]:
    """The parts used as the written report lists them (技术服务单 更换零部件): ``{"part", "quantity"}``."""
    return list((((case.get("report") or {}).get("service_form") or {}).get("parts")) or [])


def parts_cost(used: Iterable[Mapping], costs: Mapping[str, object], names: Mapping[str, str] | None = None
               ) -> tuple[PartCost, ...]:
    """The parts at catalogue cost. ``used``: lines ``{"part_code", "qty"}`` (the stock's
    consumption) or ``{"part", "quantity"}`` (the report's names); ``costs``: part code → unit
    cost (None or missing = no cost); ``names``: part name → code, to match a line by its name.
    A part without a cost counts 0 and keeps ``unit_cost`` None (flagged)."""
    by_name = {_norm(k): v for k, v in (names or {}).items()}
    out = []
    for line in used:
        label = str(line.get("part_code") or line.get("part") or "").strip()
        qty = Decimal(str(line.get("qty", line.get("quantity")) or 0))
        code = label if label in costs else by_name.get(_norm(label))
        cost = costs.get(code) if code is not None else None
        unit = None if cost is None else money(cost)
        out.append(PartCost(label, code, qty, unit, money((unit or ZERO) * qty)))
    return tuple(out)


def _norm(text: str) -> str:
    return "".join(str(text or "").split()).casefold()


def rate_at(schedule: RateSchedule, day: date) -> Decimal:
    """The labour rate in force on ``day``: the latest entry from on or before it (0 before any)."""
    rate = ZERO
    for start, value in schedule:
        if start <= day:
            rate = value
        else:
            break
    return rate


def schedule_from(history: Sequence[Mapping], default=0) -> RateSchedule:
    """The rate's schedule from its changes (records.core.parameters.history, oldest first, ``at``
    a UTC stamp): before the first change the value it replaced (or ``default``), then each new
    value from the local day it was set."""
    first = history[0].get("before") if history else None
    out = [(date.min, Decimal(str(default if first is None else first)))]
    for change in history:
        day = to_local(datetime.fromisoformat(change["at"])).date()
        out = [x for x in out if x[0] != day] + [(day, Decimal(str(change["after"])))]
    return tuple(out)


def day_fractions(cal: WorkCalendar, start: datetime, end: datetime) -> list[tuple[date, Decimal]]:
    """Each working day from ``start`` to ``end`` with the part of it worked in between (working
    hours that day in the span ÷ that day's working hours, unrounded); days off left out."""
    start, end = cal.localize(start), cal.localize(end)
    out = []
    day = start.date()
    while day <= end.date():
        if cal.is_workday(day):
            lo = datetime.combine(day, time.min, tzinfo=start.tzinfo)
            hi = lo + timedelta(days=1)
            whole = cal.working_hours_between(lo, hi)
            part = cal.working_hours_between(max(lo, start), min(hi, end))
            if whole and part:
                out.append((day, Decimal(str(part)) / Decimal(str(whole))))
        day += timedelta(days=1)
    return out


def labour_days(case: dict, cal: WorkCalendar, schedule: RateSchedule) -> tuple[LabourDay, ...]:
    """The working days from the departure (6.2.5) to the return (6.2.6), each with its rate."""
    departed = parse_local((case.get("dispatch") or {}).get("departed_at"))
    returned = parse_local((case.get("onsite") or {}).get("returned_at"))
    if departed is None or returned is None or returned < departed:
        return ()
    return tuple(LabourDay(d, f, rate_at(schedule, d)) for d, f in day_fractions(cal, departed, returned))


def kind_of(case: dict) -> str:
    """FREE (in warranty, 保修费用), FREE_APPROVED (a paid service the VP approved free after the
    customer refused, 6.2.4) or PAID (the customer accepted the fees). A 技术通报 campaign's case
    is FREE whatever the warranty (GLOSSARY): the retrofit of a defect found after delivery is a
    cost of failure in the field, so it counts in 保修费用."""
    if not is_paid(case):
        return FREE
    return PAID if collects_fee(case) else FREE_APPROVED


def revenue(case: dict) -> Decimal:
    """A paid service's revenue: the quote's total the customer accepted (5.2.3—5.2.5); else 0."""
    if kind_of(case) != PAID:
        return money(0)
    return money((case.get("quote") or {}).get("total") or quote_total(case))


def case_cost(case: dict, cal: WorkCalendar, schedule: RateSchedule, costs: Mapping[str, object],
              names: Mapping[str, str] | None = None, used: Iterable[Mapping] | None = None) -> CaseCost:
    """The case's cost (9.4). ``used``: the parts used (default: the report's lines, ``report_parts``)."""
    techs = len((case.get("dispatch") or {}).get("technicians") or [])
    return CaseCost(case.get("id"), case.get("number") or "", kind_of(case), bool(case.get("audit")),
                    audited_expenses(case), parts_cost(report_parts(case) if used is None else used, costs, names),
                    techs, labour_days(case, cal, schedule), revenue(case))


# --- Periods -------------------------------------------------------------------------------------


def confirmed_on(case: dict) -> date | None:
    """The (local) day of the confirmation (6.2.8): the day the cost counts."""
    at = parse_local((case.get("audit") or {}).get("confirmed_at"))
    return at.date() if at else None


def counts_in(case: dict, start: date, end: date) -> bool:
    """Whether the case's cost counts in ``start``..``end``: confirmed in it, neither cancelled nor merged."""
    day = confirmed_on(case)
    return is_live(case) and day is not None and start <= day <= end


# --- What the store holds (the one place each input is built) ------------------------------------


def rate_schedule(source: Store) -> RateSchedule:
    """The labour rate's schedule from its audited history (公司参数 ``labour_rate``)."""
    return schedule_from(parameters.history(source, LABOUR_RATE), policy.COMPANY_PARAMETERS[LABOUR_RATE].default)


def catalogue_costs(source: Store | Transaction) -> tuple[dict[str, object], dict[str, str]]:
    """THE place the parts catalogue's costs are read (records/materials/parts.py): (part code →
    cost, part name → code). Retired parts keep their cost (old cases used them); a part whose
    cost is not known counts 0 and is flagged."""
    costs, names = {}, {}
    for part in source.scan(parts.TABLE):
        costs[part["code"]] = part.get("cost")
        names.setdefault(part.get("name") or part["code"], part["code"])
    return costs, names


def parts_used(source: Store | Transaction, case: dict) -> list[dict]:
    """The parts a case used, as its written report lists them (a line picked from the technician's
    kit carries its catalogue code; a free-text line is matched by name)."""
    return report_parts(case)


def cost_of(source: Store, case: dict, cal: WorkCalendar, schedule: RateSchedule | None = None,
            catalogue: tuple[dict, dict] | None = None) -> CaseCost:
    """The case's cost with the store's catalogue and labour rate (pass them in when costing many)."""
    costs, names = catalogue if catalogue is not None else catalogue_costs(source)
    return case_cost(case, cal, rate_schedule(source) if schedule is None else schedule, costs, names,
                     parts_used(source, case))
