"""jobs: the scheduled runs (cron / systemd timers); plain functions, the click commands wrap them.

- ``overdue.py``         flags passed deadlines, proposes 6.1.4 / 6.2.8 fines, warns (6.1.3 … 6.2.8, 5.1.1.3)
- ``followup_calls.py``  creates and assigns the follow-up calls, reminds (8.1, 8.2)
- ``runs.py``            what the runs share: the actor, the mail batch, the managers, the links
- ``run_log.py``         each run's result for the admin page; the admins told when one fails
- ``backup_run.py``      the daily backup: snapshot, check, the chain head mailed to the admins
- ``daily.py``           the areas' daily tasks the overdue run calls (claims, preventive actions, the quarterly draft, …)
- ``signature_check.py`` every signed file checked again (``aftersales verify --signatures``, issue 18)
"""
