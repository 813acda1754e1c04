"""The case workflow's table (records/cases/flow.py): its docstring's edges are the table's, every
state is reachable and can end, every transition has one handler and a clause (issue 9)."""
from __future__ import annotations

import pytest

from records.cases import flow
from records.cases.vocab import STATES
from records.cases.workflow import HANDLERS

# Recording a call hands it over (6.1.3): a case starts in one of these (records.cases.steps.intake)
START = {"awaiting_reply", "awaiting_decision", "closed"}


def test_the_docstring_draws_the_table():
    assert flow.diagram() in flow.__doc__
    drawn = [line.strip() for line in flow.__doc__.splitlines() if "─▶" in line]
    assert drawn == [line.strip() for line in flow.diagram().splitlines()]


@pytest.mark.parametrize("action", list(flow.TRANSITIONS))
def test_each_row_names_known_states_and_has_its_handler(action):
    t = flow.TRANSITIONS[action]
    assert t.states and t.states <= set(STATES)
    assert t.to is None or (t.to and t.to <= set(STATES))
    assert HANDLERS[action].__name__ == action
    assert t.clause is None or t.clause[0].isdigit()


def _reachable(frm: set[str], reverse: bool = False) -> set[str]:
    seen, todo = set(frm), list(frm)
    while todo:
        here = todo.pop()
        for a, _, to in flow.edges():
            nxt = [a] if reverse and here in to else (list(to) if not reverse and a == here else [])
            for s in nxt:
                if s not in seen:
                    seen.add(s)
                    todo.append(s)
    return seen


def test_every_state_is_reachable_from_intake_and_can_reach_closed():
    assert _reachable(START) == set(STATES)
    assert _reachable({"closed"}, reverse=True) == set(STATES)


def test_the_state_keeping_transitions_are_the_fine_steps_and_the_74_approvals():
    assert sorted(a for a, t in flow.TRANSITIONS.items() if t.to is None) == [
        "classify", "decide_approval", "gm_rule_fine", "propose_fine", "refer_fine", "request_approval", "rule_fine",
        "state_fine"]  # issue 13: referral, statement; issue 14: the 7.4 approvals; issue 17: classify (9.3)
