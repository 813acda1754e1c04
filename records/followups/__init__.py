"""followups: 跟踪服务 (8.1) and 电话巡访 (8.2).

- ``tasks.py``  the call tasks: eligibility, creation, assignment, lists
- ``calls.py``  a call recorded on its task, and the case a problem raised on it becomes
- ``handover.py``  disabling a person with the hand-over of their open work (cases and calls), in one transaction
"""
