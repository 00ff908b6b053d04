"""The test command's runs compared: which tests regressed, read from pytest's own output."""

from __future__ import annotations

from codemods.stage._testrun import compare_tests, failing_tests
from codemods.types import TestRun

PYTEST_OUTPUT = """____________________ test_new_users_are_active[ada@example.com] ____________________

>       assert user.status == "active"
E       AssertionError: assert 'pending' == 'active'
E         - active

tests/test_a_signup.py:14: AssertionError
=========================== short test summary info ============================
FAILED tests/test_a_signup.py::test_new_users_are_active[ada@example.com] - AssertionError: as...
ERROR tests/test_b_orders.py - sqlalchemy.exc.InvalidRequestError: Table 'use...
1 failed, 1 error in 3.14s
"""


def run(side: str, code: int, output: str = "") -> TestRun:
    failed = failing_tests(output)
    return TestRun(side, "pytest", code, output[-200:], 1.0, tuple(f"{k} - {v}" for k, v in failed.items()))


def test_failing_tests_read_the_summary_and_the_untruncated_exception() -> None:
    assert failing_tests(PYTEST_OUTPUT) == {
        "tests/test_a_signup.py::test_new_users_are_active[ada@example.com]":
            "AssertionError: assert 'pending' == 'active'",
        "tests/test_b_orders.py": "sqlalchemy.exc.InvalidRequestError: Table 'use...",
    }


def test_only_new_failures_regress() -> None:
    before = run("before", 1, "ERROR tests/test_b_orders.py - ImportError: x\n")
    after = run("after", 1, PYTEST_OUTPUT)
    bad, _ = compare_tests(before, after)
    assert bad == ["test tests/test_a_signup.py::test_new_users_are_active[ada@example.com] - "
                   "AssertionError: assert 'pending' == 'active' fails after the migration, not before"]
    same, notes = compare_tests(after, after)
    assert same == [] and notes[0].startswith("already failing before: 2 test(s)")
    assert compare_tests(run("before", 0), run("after", 0)) == ([], [])
    unnamed, _ = compare_tests(run("before", 7), run("after", 7))
    assert unnamed[0].startswith("test command failed after the migration (exit 7)")
    passed_before, _ = compare_tests(run("before", 0), run("after", 5))
    assert passed_before == ["test command (exit 5) passed before and fails after the migration"]
