"""service_forms: the 技术服务单 (附; 6.2.5—6.2.7).

- ``fields.py``    its vocabulary: fields, ratings, charges, limits (a leaf)
- ``document.py``  the printable form of a case as a PDF, and its file names
- ``archive.py``   the archive of signed forms, and who may add to it (6.2.6, 6.2.7)
- ``uploads.py``   what its uploads carry: the QR code of a scan, the signatures drawn on the tablet
- ``consistency.py`` one on-site record: the time rules of every path, the signed form's fields, their differences
"""
