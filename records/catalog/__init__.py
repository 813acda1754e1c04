"""catalog: the customers and the products delivered to them (4, 5.1, 8.2).

- ``customers.py``      customer units, their contacts and road distance (5.1.1.3)
- ``products.py``       delivered units, their warranty (5.1, 6.2.2) and the reliability flag (8.2)
- ``phones.py``         telephone numbers: the characters accepted, the digits a search compares
- ``import_parser.py``  reading a product list (产品台账) from .xlsx or .csv into rows
- ``product_import.py`` checking those rows and importing them all, or none
- ``import_template.py`` the blank product list to fill in (.xlsx) and how its columns are explained
- ``categories.py``    the company lists of cause categories (the one list, 3.1 / 9.3) and fault categories (9.3)
"""
