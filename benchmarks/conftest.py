# SPDX-License-Identifier: MIT
"""Benchmarks reuse the fixtures of the test suite (run by hand, not in CI)."""

from tests.conftest import *  # noqa: F401,F403
