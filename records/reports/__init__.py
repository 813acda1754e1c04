"""reports: section 9's evaluations and reports (9.1, 9.5 now; 9.2–9.4 planned, issue 17).

- ``figures.py``      the assessments' figures from the records (pure): 9.1 per technician and quarter, 9.5 per 技质部 member and month
- ``assessments.py``  考核 kept, sent and archived (9.1, 9.5): who may, the opinion or evaluation, the notices
- ``sections.py``     one section of a section-9 report: its title, table, optional SVG chart (9.2)
- ``documents.py``    the archived A4 PDF of an assessment and the month's Excel export (9.5)
- ``quarterly.py``    the quarterly report to the GM (9.2): draft, summary, issue and archive, corrections, its providers
- ``quarterly_sections.py``   the report's own sections: cases by type and outcome, fines' totals, follow-up calls (9.2)
- ``quarterly_documents.py``  the report's A4 PDF and Excel workbook, its sections as stored (9.2)
"""
