"""fines: 处罚 (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9), pure rules over a case document (no store).

- ``proposals.py``  the proposals: made by a step, by the overdue run (6.1.4, 6.2.8: one per case, its running count) or by hand (6.1.5, 6.2.9)
- ``rulings.py``    per fine: a tq_manager confirms, waives or refers to the GM; the GM rules (6.2.8); the person's statement
- ``visibility.py`` who sees a fine (GLOSSARY): the person, 技质部经理, the GM, 财务部; others ``HIDDEN_TEXT``
- ``ledger.py``     the penalty ledger: the fines as ruled, totalled (this year's total; per person and month next)
- ``register.py``   the penalty register (处罚台账): every proposal and ruling as rows, their months, filters, totals
- ``months.py``     the months issued to payroll by 财务部 (table ``penalty_months``), frozen once issued
"""
