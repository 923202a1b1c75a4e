"""`make demo` (``python -m dev demo``): ``run`` lands DMS-style files and prints what the event
graph did; each other module is one section of it, reused by the integration tests."""
