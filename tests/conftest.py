"""Shared test configuration.

The helpers live in `tests/support/` and are imported as `from support.<module> import ...`:
tests/ has no `__init__.py`, so pytest puts tests/ on `sys.path` when it loads this conftest,
which makes `support` importable however pytest is started (from the repo root, one file, a fresh clone).
Tests that stage a branch or run subprocesses for more than a few seconds are marked `slow`;
`python -m pytest -m "not slow"` is the inner loop, `python -m pytest` runs everything.
"""
