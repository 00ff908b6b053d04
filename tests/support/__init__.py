"""Helpers shared by the test modules: fixture projects, git repos, the DDL probe, the CLI runners."""
