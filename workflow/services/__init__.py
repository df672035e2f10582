"""The service layer: one function per use case. Web, API, CLI and Celery all call these.

Each function opens a unit of work, loads, calls the domain, commits; domain events are
dispatched after the commit.
"""
