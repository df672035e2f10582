"""The service layer: one function per use case. Web, API, CLI and Celery all call these.

Each function opens a unit of work, loads, calls the domain, commits; the events it records
(`uow.record`) reach listeners registered with `uow.on_event` only after the commit (none
is registered today: workflow/storage/uow.py).
"""
