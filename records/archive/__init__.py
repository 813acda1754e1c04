"""archive: 10 「技质部负责对售后服务形成记录进行收集归档」: the case dossier and the yearly archive.

- ``dossier.py``   one case's whole story as an A4 PDF (案卷), generated on demand; fines as the reader may see them
- ``snapshot.py``  a consistent, read-only snapshot of some tables of the live store, at one commit
- ``yearly.py``    the yearly archive: one zip of every record 技质部 formed that year, its files, dossiers, audit entries
- ``verify.py``    the check of a yearly archive on any machine: manifest sums, audit entries' hashes and chain links
"""
