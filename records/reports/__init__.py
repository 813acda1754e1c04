"""reports: section 9's evaluations and reports (9.1, 9.5 now; 9.2–9.4 planned, issue 17).

- ``figures.py``      the assessments' figures from the records (pure): 9.1 per technician and quarter, 9.5 per 技质部 member and month
- ``assessments.py``  考核 kept, sent and archived (9.1, 9.5): who may, the opinion or evaluation, the notices
- ``sections.py``     one section of a section-9 report: its title, table, optional SVG chart (9.2)
- ``preventive.py``   预防措施 (9.3): raised from cases or a cause across a model, evidence, verification, overdue, report section
- ``preventive_flow.py``  the preventive action's states and who takes each step (9.3)
- ``statistics.py``     9.3 quality statistics (pure): counts by model, fault and cause, Pareto, trend, failure rate, 重复故障, 返修, on-time rates, gaps; the report's sections
- ``statistics_rows.py`` the small per-case and per-product rows the statistics read, kept per shard (core/digest.py)
- ``charts.py``         server-side SVG charts (Pareto, trend): no script, no inline style, CSP-safe, the same in page and PDF
- ``documents.py``    the archived A4 PDF of an assessment and the month's Excel export (9.5)
- ``quarterly.py``    the quarterly report to the GM (9.2): draft, summary, issue and archive, corrections, its providers
- ``quarterly_sections.py``   the report's own sections: cases by type and outcome, fines' totals, follow-up calls (9.2)
- ``quarterly_documents.py``  the report's A4 PDF and Excel workbook, its sections as stored (9.2)
"""
