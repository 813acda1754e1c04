"""core: storage and plumbing, no domain words (the bottom layer).

- ``store.py``        the record store: TinyDB documents in 256-id shard files, the shard cache
- ``transaction.py``  one locked, journalled, atomic write of the store
- ``files.py``        atomic file writes, temp files, the cross-process lock
- ``audit.py``        the hash-chained, append-only audit trail
- ``schema.py``       schema versions of stored documents and their migrations
- ``backup.py``       consistent snapshots (independent copies) and their chain heads; the migration run
- ``replay.py``       the record check of ``verify``: every record rebuilt from its audit entries
- ``restore.py``      restoring a snapshot that verifies into a missing or empty folder
- ``errors.py``       DomainError (a Chinese refusal with its field), RecordNotFound, StaleRecord
- ``digest.py``       per-shard digests of a table, recomputed only for the shards that changed
- ``index.py``        summary indexes of a table (sorted rows, buckets per field value) over the digests
- ``pdf.py``          HTML → PDF with WeasyPrint and the subset CJK font (附: the 技术服务单)
- ``glyphs.py``       what the PDF fonts can draw: an emoji no font has prints as a visible replacement
- ``mailer.py``       SMTP: settings, messages, one session for a batch
- ``uploads.py``      the one checker of every upload (check_upload) and the company's upload caps
- ``parameters.py``  named settings kept in one audited table (get, set, history); their meaning is decided above
- ``xlsx.py``         the one Excel/CSV writer: sheets (header, rows, widths, notes) → .xlsx; rows → CSV
- ``signing.py``      the company's PAdES signature (pyHanko): the key, the kept certificates, sign, check
"""
