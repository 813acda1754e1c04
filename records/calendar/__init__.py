"""calendar: the company's working calendar (GLOSSARY 工作小时 / 工作日) and the regulation's time limits.

- ``workdays.py``     working days and hours, their arithmetic; local time (iso/parse/now)
- ``time_limits.py``  the regulation's time limits as Deadlines: 6.1.3, 6.2.1, 6.2.2, 6.2.7, 6.2.8, 5.1.1.3
- ``corrections.py``  the company's corrections of the calendar, kept in the store; the current calendar
- ``periods.py``      months added to a date, quarters and years (8.1, 8.2; section 9)
"""
