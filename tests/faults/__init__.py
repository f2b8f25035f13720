# SPDX-License-Identifier: MIT
"""Fault tests: real outages of a worker, Redis, the search server and PostgreSQL."""
