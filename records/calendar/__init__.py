"""calendar: the company's working calendar (GLOSSARY 工作小时 / 工作日) and the regulation's time limits.

- ``workdays.py``     working days and hours, their arithmetic; local time (iso/parse/now)
- ``day_periods.py``  the working periods in force on each day: the policy default and dated settings
- ``holiday_data.py`` China's statutory days off and 调休上班 days, one year at a time (`holidays`)
- ``work_periods.py`` the company's dated settings of the working periods (作息时间), kept in the store
- ``time_limits.py``  the regulation's time limits as Deadlines: 6.1.3, 6.2.1, 6.2.2, 6.2.7, 6.2.8, 5.1.1.3
- ``corrections.py``  the company's corrections of the calendar, kept in the store; the current calendar
- ``periods.py``      months added to a date, quarters and years (8.1, 8.2; section 9)
"""
