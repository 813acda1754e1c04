"""materials: service materials, returned goods and supplier claims (3.1, 5.2.4, 6.2.7).

Imports neither cases nor service_forms: a caller passes a case's data in.

- ``suppliers.py``    the makers of bought-in and outsourced parts, their contacts (3.1)
- ``returns.py``      returned materials (unused / faulty) received by 技质部; the kit's parts for the tablet form (3.1, 6.2.7)
- ``inspections.py``  the inspection of a faulty returned part: result, failure cause, cause category (3.1)
- ``parts.py``        the catalogue of spare parts and service materials, cost, 财务部's sale price (3.1, 5.2.4)
- ``stock.py``        stock per location (store, technicians' kits) from append-only moves, discrepancies (3.1, 6.2.5)
- ``purchases.py``    purchase requests, approval, receipt with incoming inspection (3.1)
- ``warranty.py``     the warranty of a supplier's parts: months per part, from delivery or receipt (3.1)
- ``claim_flow.py``   the supplier claim's states and who takes each step (3.1)
- ``claims.py``       supplier claims: draft, send, reply, recoveries with their dates (3.1, 9.4)
- ``claim_notice.py`` the supplier notice, an A4 PDF letter archived when the claim is sent (3.1)
- ``claim_reminders.py`` the reply reminders (daily task) and the claims in 我的待办 (3.1)
"""
