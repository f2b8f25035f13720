# SPDX-License-Identifier: MIT
"""Tasks, definitions and permissions of the module's side of the benchmark.

Imported (as the top-level module ``bench_tasks``) by the benchmark process,
the module's Celery worker and the HTTP server, all built by
:mod:`bench_app`. Uses only the module's public API: ``workflow_task`` and
Celery canvases as ``workflow_definition``.
"""

from celery import chain, group
from invenio_access import Permission
from invenio_access.permissions import any_user, system_process
from invenio_records_permissions.generators import AnyUser
from invenio_records_permissions.policies import BasePermissionPolicy

from invenio_workflow_records import workflow_task


@workflow_task(name="bench.module.noop")
def noop(*args, **kwargs):
    """Do nothing (a chain passes the parent's result as first arg)."""
    return None


@workflow_task(name="bench.module.collect")
def collect(*args, **kwargs):
    """The fan-in task: receives the list of the group's results."""
    return None


def chain_of(length):
    """A chain of ``length`` no-op tasks."""
    return chain(*[noop.s() for _ in range(length)])


def fan_in(width):
    """A group of ``width`` no-op tasks, then one collector (a fan-in)."""
    return chain(group(*[noop.s() for _ in range(width)]), collect.s())


single = chain_of(1)
chain_10 = chain_of(10)
chain_100 = chain_of(100)
chain_500 = chain_of(500)
group_100 = fan_in(100)
group_1000 = fan_in(1000)

DEFINITIONS = {
    f"bench-{attr.replace('_', '-')}": {
        "workflow_definition": f"bench_tasks:{attr}",
        "title": f"Benchmark {attr.replace('_', ' ')}",
    }
    for attr in (
        "single",
        "chain_10",
        "chain_100",
        "chain_500",
        "group_100",
        "group_1000",
    )
}
"""``WORKFLOWS_DEFINITIONS`` of the benchmark app."""


def allow_all(workflow, action):
    """``WORKFLOWS_PERMISSION_FACTORY``: everybody may do everything.

    ``system_identity`` does not provide ``any_user``: it is named too.
    """
    return Permission(any_user, system_process)


class AllowAllPolicy(BasePermissionPolicy):
    """``WORKFLOWS_PERMISSION_POLICY``: every action, for everybody.

    The factory above decides single workflows; a search (no workflow, no
    definition) is decided by the policy, so it must let anonymous requests
    of the HTTP benchmark through too. Its filter is ``match_all``.
    """

    @property
    def generators(self):
        """Any user, whatever the action."""
        return [AnyUser()]
