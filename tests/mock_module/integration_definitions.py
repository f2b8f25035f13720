# SPDX-License-Identifier: MIT
"""Workflow definitions that the integration tests run in a real worker."""

from celery import chain, chord, group

from .integration_tasks import (
    add,
    collect,
    echo_params,
    fail_with,
    flaky,
    mul,
    sleep_then,
)

arithmetic = chain(add.si(2, 3), mul.s(4), add.s(1))
"""(2 + 3) * 4 + 1: each result is the first argument of the next task."""

fan_in = chain(group(add.si(1, 1), add.si(2, 2)), collect.s())
"""A group whose results reach the next task as a list, in order."""

fan_in_chord = chord([mul.si(2, 3), mul.si(4, 5)], collect.s())
"""The same as a chord."""

params = chain(echo_params.s(), echo_params.si(marker="signature"))
"""Tasks that return the keyword arguments they received."""

failing = chain(add.si(1, 1), fail_with.s(), add.s(1))
"""The middle task fails; the last one must be skipped."""

retried = chain(flaky.s(), collect.si([1, 2]))
"""The first task fails with IOError a few times, Celery retries it."""

slow = chain(sleep_then.s(), add.s(1))
"""A long task (seconds param) followed by a quick one."""

fails_then_resumes = chain(add.si(1, 2), flaky.s())
"""A success, then a task that fails for good unless its params change."""

killed = chain(sleep_then.s().set(time_limit=2), add.s(1))
"""A task killed by its hard time limit."""
