"""records: storage and the domain of the 售后服务管理规定; no Flask. Only this package touches TinyDB.

Packages in layers: a package imports only from the packages below it (checked by
import-linter, ``[tool.importlinter]`` in pyproject.toml, and tests/test_architecture.py).
``|`` marks siblings that do not import each other; *(planned)* are the homes later issues fill.

- ``jobs/``           the scheduled runs (cron): the overdue check, the follow-up run     ── top
- ``reports/`` | ``archive/``   section 9's assessments and reports | section 10: the case dossier, the yearly archive
- ``technical_notices/``        技术通报: the notice, its affected products, deliveries and acknowledgements, the on-site campaign
- ``followups/``      8.1, 8.2: the follow-up call tasks and the calls recorded on them
- ``cases/``          sections 5 and 6: the case workflow as one table, its steps and deadlines
- ``fines/`` | ``service_forms/`` | ``materials/`` *(planned)*
                      处罚 proposals and rulings (pure) | 技术服务单 (附) | 3.1, 6.2.7 materials
- ``notifications/``  the inbox, the e-mail outbox, the SMTP settings
- ``users/`` | ``catalog/``      accounts, sessions, roles | customers, products, their import
- ``calendar/``       the working calendar (GLOSSARY 工作小时 / 工作日), time limits, periods
- ``policy.py``       every number of the regulation, with its clause
- ``core/``           storage and plumbing, no domain words                               ── bottom

Beside the layers: ``clauses.py`` (each clause of the regulation → where it is implemented) and
``demo.py`` (the demo data).
"""
