"""steps: one handler per transition of ``records.cases.flow.TRANSITIONS``, named after its action.

Each module ends with ``HANDLERS``; ``records.cases.workflow`` merges them and checks that the
keys are the table's. A handler takes ``(tx, case, user, data, cal, now)``.

- ``intake.py``          the hand-over at recording, the consultation's answer (6.1.1, 6.1.3, 6.2.1)
- ``unknown.py``         技质部 verifies a 待核实 unit or serial before the decision (6.1.1, 6.1.2, 6.2.2)
- ``decision.py``        warranty and solution, phone guidance (6.2.2, 6.2.3; 5.1.1.1, 5.1.1.2, 5.2.2, 5.2.3)
- ``quote.py``           paid service: quote, prices, the customer's answer, the VP (5.2.3—5.2.5, 6.2.4)
- ``onsite.py``          dispatch, arrival, completion, return (6.2.5, 6.2.6, 5.1.1.3)
- ``report.py``          the written report with the 技术服务单, its confirmation (6.2.7, 6.2.8)
- ``handin.py``          the 6.2.7 hand-in rule, the returned materials received, consumption at 6.2.8, an inspection's cause
- ``conduct.py``         7.4: a technician asks their 主管领导 to agree beforehand to 交际应酬; the 主管领导 answers
- ``fine_decisions.py``  fine proposals by hand and rulings (6.1.5, 6.2.8, 6.2.9)
- ``corrections.py``     correcting the intake fields with a reason (recomputes warranty, deadlines, 6.1.4)
- ``closure.py``         作废 (cancel), 合并 (merge into another case), restoring a cancelled case
"""
