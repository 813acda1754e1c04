"""cases: a customer's consultation or fault report through sections 5 and 6.

- ``vocab.py``            the words: table, types, channels, solutions, states, deadline names, refusals
- ``flow.py``             the transitions table (clause, from, to, who, guard), who may act and read
- ``notices.py``          who hears of each step (``notify``) and of each fine, the notices' words
- ``input.py``            the typed input of intake and the steps, checked
- ``deadlines.py``        deadlines set, met, read (status, overdue, responsible), recomputed; the provisional
  5.1.1.3 arrival before the decision; 待出发 / 已出发 from the departure time (6.2.5)
- ``numbers.py``          the yearly number series: FW (6.1.1, 6.1.2), JF (6.2.5)
- ``workflow.py``         intake (6.1.1, 6.1.2) and ``perform`` (one transition, one handler)
- ``index.py``            the case index: per case the fields the lists filter and sort on
- ``queries.py``          我的待办, the case list's search and the home page's overview
- ``lookup.py``           any employee's lookup of a case (6.1.1); a customer's or product's cases
- ``migrations.py``       the schema migrations of stored cases (v2: recording is the hand-over, 6.1.3)
- ``duplicates.py``       the open cases an intake may repeat (same product, same caller phone lately)
- ``calendar_change.py``  a calendar correction and the deadlines it moves, in one transaction
- ``timeline.py``         the case's timeline: its entry kinds (steps, corrections, 作废/合并/恢复, notes, attachments)
- ``onsite_record.py``    one record of the on-site work: tablet or paper path, prefills, differences (6.2.6, 6.2.7)
- ``notes.py``            notes and attachments on a case (photos, written confirmations, faxes), checked and kept
- ``reassign.py``         a person's open work on the cases and its hand-over when they are disabled
- ``idle.py``             company time limits of the steps with no clock in the regulation (报价、定价、顾客确认、副总审批、电话指导)
- ``from_notice.py``     the cases a 技术通报 creates: one per affected product, free, at dispatch with the notice's due date
- ``quotation.py``        the printable 报价单 of a paid service (5.2.3—5.2.5, 6.2.4): an A4 PDF
- ``penalties.py``        the penalty register over the stored cases, the bulk ruling of proposals, issuing a month
- ``expenses.py``         the expense claim's lines (6.2.7): amounts as typed, date, category, receipts; the audit (6.2.8, 7.4)
- ``conduct.py``          service conduct (7): the report's checklist (7.1–7.3), the 主管领导's prior approvals (7.4)
- ``classification.py``   the fault's classification for 9.3: provisional at the decision, final at the close, corrected after
- ``steps/``              one handler per transition, by section of the regulation:
  ``intake.py`` (6.1.3, 6.2.1), ``unknown.py`` (待核实, 6.2.2), ``decision.py`` (6.2.2, 6.2.3), ``quote.py`` (5.2.3—5.2.5, 6.2.4),
  ``onsite.py`` (6.2.5, 6.2.6, 5.1.1.3), ``report.py`` (6.2.7, 6.2.8), ``fine_decisions.py``
  (6.1.5, 6.2.8, 6.2.9), ``conduct.py`` (7.4: a 交际应酬 approval asked and given), ``corrections.py`` and
  ``closure.py`` (correct, cancel, merge, restore: no clause)
"""
