"""notifications: telling people of work (in the app and by e-mail).

- ``inbox.py``          the notices, one per person, read marks, the index of keys and unread counts
- ``outbox.py``         making notices with their mail queued (``queue``, ``notify``); sending the queue
- ``courier.py``        the mail of a request's notices sent right after its commit (a background thread)
- ``smtp_settings.py``  the SMTP settings the admin stores (else the environment's)
- ``admin_alerts.py``   the admins told once a day of a document archived unsigned (no signing key)
"""
