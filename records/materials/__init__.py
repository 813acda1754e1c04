"""materials: service materials, returned goods and supplier claims (3.1, 5.2.4, 6.2.7).

Imports neither cases nor service_forms: a caller passes a case's data in.

- ``suppliers.py``    the makers of bought-in and outsourced parts, their contacts (3.1)
- ``returns.py``      returned materials (unused / faulty) received by 技质部; the kit's parts for the tablet form (3.1, 6.2.7)
- ``inspections.py``  the inspection of a faulty returned part: result, failure cause, cause category (3.1)
"""
