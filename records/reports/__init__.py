"""reports: section 9's evaluations and reports (9.1, 9.5 now; 9.4 built; 9.2, 9.3 planned, issue 17).

- ``figures.py``      the assessments' figures from the records (pure): 9.1 per technician and quarter, 9.5 per 技质部 member and month
- ``assessments.py``  考核 kept, sent and archived (9.1, 9.5): who may, the opinion or evaluation, the notices
- ``sections.py``     one section of a section-9 report: its title, table, optional SVG chart (9.2)
- ``case_costs.py``   the cost of one case (9.4, pure): audited expenses, parts at catalogue cost, labour at the rate in force, revenue
- ``failure_costs.py`` 9.4 外部损失成本 per quarter: the five GB/T 13339 items, recoveries deducted, totals, loss rate, its report sections
- ``failure_entries.py`` the entered items of 9.4 (技质部 / 财务部, with evidence, corrections audited, reversals) and the quarter's 工业总产值
- ``documents.py``    the archived A4 PDF of an assessment and the month's Excel export (9.5)
"""
