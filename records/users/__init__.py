"""users: the people who use the system and what they may do.

- ``accounts.py``     accounts, Argon2id passwords, the lockout after wrong passwords (ASVS L2)
- ``sessions.py``     logins and server-side sessions (idle limit, 12-hour lifetime)
- ``throttle.py``     the login throttle per client address (20 failures in 10 minutes → 15 minutes)
- ``install.py``      the data folder's state: real (``aftersales init``, first admin) or demo; the start check
- ``roles.py``        the roles (3.1 技质部, 3.2 销售部, …) and the groups of roles each area lets in
- ``departments.py``  the departments the admin keeps, each user's department and 主管领导 (7.4)
"""
