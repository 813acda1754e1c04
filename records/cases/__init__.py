"""cases: a customer's consultation or fault report through sections 5 and 6.

- ``vocab.py``            the words: table, types, channels, solutions, states, deadline names, refusals
- ``flow.py``             the transitions table (clause, from, to, who, guard), who may act and read
- ``input.py``            the typed input of intake and the steps, checked
- ``deadlines.py``        deadlines set, met, read (status, overdue, responsible), recomputed
- ``numbers.py``          the yearly number series: FW (6.1.1, 6.1.2), JF (6.2.5)
- ``workflow.py``         intake (6.1.1, 6.1.2) and ``perform`` (one transition, one handler)
- ``index.py``            the case index: per case the fields the lists filter and sort on
- ``queries.py``          我的待办, the case list's search and the home page's overview
- ``calendar_change.py``  a calendar correction and the deadlines it moves, in one transaction
- ``steps/``              one handler per transition, by section of the regulation:
  ``intake.py`` (6.1.3, 6.2.1), ``decision.py`` (6.2.2, 6.2.3), ``quote.py`` (5.2.3—5.2.5, 6.2.4),
  ``onsite.py`` (6.2.5, 6.2.6, 5.1.1.3), ``report.py`` (6.2.7, 6.2.8), ``fine_decisions.py``
  (6.1.5, 6.2.8, 6.2.9)
"""
