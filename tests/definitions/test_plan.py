# SPDX-License-Identifier: MIT
"""Tests of the compilation of canvases into plans."""

import json

import pytest
from celery import Task, chain, chord, group
from celery.canvas import Signature, _chain

from invenio_workflow_records.definitions import (
    InvalidDefinitionError,
    PlanNode,
    compile_plan,
)

from .example_tasks import a, b, c, d, plain


def shape(plan):
    """The (key, task, parents, input) of every node, with short task names."""
    return [
        (node.key, node.task.rsplit(".", 1)[-1], node.parents, node.input)
        for node in plan
    ]


def test_single_signature():
    """A single signature is the node "0"."""
    plan = compile_plan(a.s(1))
    assert plan == [PlanNode(key="0", task=a.name, args=(1,), input="none")]


def test_single_bare_task():
    """A bare task is accepted as the whole definition."""
    assert shape(compile_plan(a)) == [("0", "a", (), "none")]


def test_chain():
    """Each element of a chain receives the previous one's result."""
    assert shape(compile_plan(chain(a.s(), b.s(), c.s()))) == [
        ("0", "a", (), "none"),
        ("1", "b", ("0",), "single"),
        ("2", "c", ("1",), "single"),
    ]


def test_pipe_syntax_is_a_chain():
    """``a | b | c`` compiles like ``chain(a, b, c)``."""
    piped = compile_plan(a.s() | b.s() | c.s())
    assert piped == compile_plan(chain(a.s(), b.s(), c.s()))
    assert [node.key for node in piped] == ["0", "1", "2"]


def test_group():
    """Group members sit side by side under the group's key."""
    assert shape(compile_plan(group(a.s(), b.s()))) == [
        ("0.0", "a", (), "none"),
        ("0.1", "b", (), "none"),
    ]


def test_group_members_share_the_incoming_parent():
    """Every member of a group receives the result of what precedes it."""
    assert shape(compile_plan(a.s() | group(b.s(), c.s()))) == [
        ("0", "a", (), "none"),
        ("1.0", "b", ("0",), "single"),
        ("1.1", "c", ("0",), "single"),
    ]


def test_task_after_group_gets_the_list():
    """The example of the design: ``chain(group(a, b), c)``."""
    assert shape(compile_plan(chain(group(a.s(), b.s()), c.s()))) == [
        ("0.0", "a", (), "none"),
        ("0.1", "b", (), "none"),
        ("1", "c", ("0.0", "0.1"), "list"),
    ]


def test_single_member_group_still_gives_a_list():
    """After a group of one member the next task gets a list of one result."""
    assert shape(compile_plan(group(a.s()) | b.s())) == [
        ("0.0", "a", (), "none"),
        ("1", "b", ("0.0",), "list"),
    ]


def test_chain_of_groups():
    """Each member of the second group gets the results of the first one."""
    assert shape(compile_plan(chain(group(a.s(), b.s()), group(c.s(), d.s())))) == [
        ("0.0", "a", (), "none"),
        ("0.1", "b", (), "none"),
        ("1.0", "c", ("0.0", "0.1"), "list"),
        ("1.1", "d", ("0.0", "0.1"), "list"),
    ]


def test_group_of_chains_followed_by_a_task():
    """The task after a group of chains gets the chains' last results."""
    canvas = group(a.s() | b.s(), c.s() | d.s()) | a.s()
    assert shape(compile_plan(canvas)) == [
        ("0.0.0", "a", (), "none"),
        ("0.0.1", "b", ("0.0.0",), "single"),
        ("0.1.0", "c", (), "none"),
        ("0.1.1", "d", ("0.1.0",), "single"),
        ("1", "a", ("0.0.1", "0.1.1"), "list"),
    ]


def test_chain_ending_with_a_group_passes_a_list():
    """A chain whose last element is a group ends with a group."""
    canvas = group(a.s() | group(b.s(), c.s()), d.s()) | a.s()
    assert shape(compile_plan(canvas)) == [
        ("0.0.0", "a", (), "none"),
        ("0.0.1.0", "b", ("0.0.0",), "single"),
        ("0.0.1.1", "c", ("0.0.0",), "single"),
        ("0.1", "d", (), "none"),
        ("1", "a", ("0.0.1.0", "0.0.1.1", "0.1"), "list"),
    ]


def test_nested_group_is_flattened_for_result_passing():
    """The results of ``group(a, group(b, c))`` are passed as ``[a, b, c]``."""
    canvas = group(a.s(), group(b.s(), c.s())) | d.s()
    assert shape(compile_plan(canvas)) == [
        ("0.0", "a", (), "none"),
        ("0.1.0", "b", (), "none"),
        ("0.1.1", "c", (), "none"),
        ("1", "d", ("0.0", "0.1.0", "0.1.1"), "list"),
    ]


def test_chord():
    """A chord is the chain of its header group and its body."""
    plan = compile_plan(chord([a.s(), b.s()], c.s()))
    assert shape(plan) == [
        ("0.0", "a", (), "none"),
        ("0.1", "b", (), "none"),
        ("1", "c", ("0.0", "0.1"), "list"),
    ]
    assert plan == compile_plan(chain(group(a.s(), b.s()), c.s()))


def test_chord_inside_a_chain_is_spliced():
    """``a | chord([b, c], d)`` compiles like ``chain(a, group(b, c), d)``."""
    expected = [
        ("0", "a", (), "none"),
        ("1.0", "b", ("0",), "single"),
        ("1.1", "c", ("0",), "single"),
        ("2", "d", ("1.0", "1.1"), "list"),
    ]
    assert shape(compile_plan(a.s() | chord([b.s(), c.s()], d.s()))) == expected
    assert shape(compile_plan(chain(a.s(), group(b.s(), c.s()), d.s()))) == expected


def test_chord_inside_a_group():
    """A chord that is a group member keeps its own key path."""
    canvas = group(chord([a.s(), b.s()], c.s()), d.s()) | a.s()
    assert shape(compile_plan(canvas)) == [
        ("0.0.0.0", "a", (), "none"),
        ("0.0.0.1", "b", (), "none"),
        ("0.0.1", "c", ("0.0.0.0", "0.0.0.1"), "list"),
        ("0.1", "d", (), "none"),
        ("1", "a", ("0.0.1", "0.1"), "list"),
    ]


def test_chord_body_chain():
    """Celery turns ``group | c | d`` into a chord whose body is a chain."""
    assert shape(compile_plan(group(a.s(), b.s()) | c.s() | d.s())) == [
        ("0.0", "a", (), "none"),
        ("0.1", "b", (), "none"),
        ("1", "c", ("0.0", "0.1"), "list"),
        ("2", "d", ("1",), "single"),
    ]


def test_chord_without_body():
    """A chord without body is its header group."""
    assert shape(compile_plan(chord([a.s(), b.s()]))) == [
        ("0.0", "a", (), "none"),
        ("0.1", "b", (), "none"),
    ]


def test_nested_chains_are_spliced():
    """A chain inside a chain is spliced, whether or not Celery did it."""
    expected = [
        ("0", "a", (), "none"),
        ("1", "b", ("0",), "single"),
        ("2", "c", ("1",), "single"),
        ("3", "d", ("2",), "single"),
    ]
    assert shape(compile_plan(chain(a.s(), chain(b.s(), c.s()), d.s()))) == expected
    # ``_chain`` does not splice by itself.
    nested = _chain(a.s(), _chain(b.s(), _chain(c.s())), d.s())
    assert shape(compile_plan(nested)) == expected


def test_chain_inside_group_inside_chain():
    """Only chains directly inside chains are spliced."""
    canvas = chain(a.s(), group(chain(b.s(), c.s()), d.s()))
    assert shape(compile_plan(canvas)) == [
        ("0", "a", (), "none"),
        ("1.0.0", "b", ("0",), "single"),
        ("1.0.1", "c", ("1.0.0",), "single"),
        ("1.1", "d", ("0",), "single"),
    ]


def test_immutable_signature():
    """``.si()`` waits for its parent but receives nothing from it."""
    plan = compile_plan(a.s() | b.si(2) | c.s())
    assert shape(plan) == [
        ("0", "a", (), "none"),
        ("1", "b", ("0",), "none"),
        ("2", "c", ("1",), "single"),
    ]
    assert [node.immutable for node in plan] == [False, True, False]
    assert plan[1].args == (2,)


def test_immutable_after_group():
    """An immutable task after a group keeps the group members as parents."""
    plan = compile_plan(group(a.s(), b.s()) | c.si())
    assert shape(plan)[-1] == ("1", "c", ("0.0", "0.1"), "none")


def test_bare_tasks_in_canvases():
    """Bare task objects are accepted in groups, chords and chains."""
    expected = [
        ("0.0", "a", (), "none"),
        ("0.1", "b", (), "none"),
        ("1", "c", ("0.0", "0.1"), "list"),
    ]
    assert shape(compile_plan(chain(group(a, b), c))) == expected
    assert shape(compile_plan(chord([a, b], c))) == expected
    assert shape(compile_plan(group(a, b) | c)) == expected
    # Celery's ``chain(a, b)`` refuses bare tasks; ``_chain`` takes them.
    assert shape(compile_plan(_chain(a, b.s(), plain))) == [
        ("0", "a", (), "none"),
        ("1", "b", ("0",), "single"),
        ("2", "plain", ("1",), "single"),
    ]
    node = compile_plan(group(a, b))[0]
    assert (node.args, node.kwargs, node.options, node.immutable) == ((), {}, {}, False)


def test_keys_are_stable():
    """The same definition always gives the same plan."""
    canvas = chain(a.s(), group(b.s(), c.s() | d.s()), chord([a.s(), b.s()], c.s()))
    first = compile_plan(canvas)
    assert first == compile_plan(canvas)
    assert len({node.key for node in first}) == len(first)


def test_serialized_canvas():
    """A canvas serialized to JSON and back compiles to the same plan."""
    canvas = chain(a.s(1), group(b.s(x=2), c.si()), chord([a.s(), b.s()], d.s()))
    loaded = json.loads(json.dumps(canvas))
    assert isinstance(loaded, dict) and not isinstance(loaded, Signature)
    assert compile_plan(loaded) == compile_plan(canvas)
    assert compile_plan(Signature(dict(canvas))) == compile_plan(canvas)


def test_frozen_canvas():
    """Ids and callbacks set by ``freeze()`` are not part of the plan."""
    for make in (
        lambda: chain(a.s(), b.s().set(queue="q"), c.s()),
        lambda: group(a.s(), b.s()),
        lambda: chord([a.s(), b.s()], c.s()),
    ):
        frozen = make()
        frozen.freeze()
        assert compile_plan(frozen) == compile_plan(make())


def test_arguments_and_options_are_kept():
    """A signature's args, kwargs and options are kept, Celery's own dropped."""
    signature = a.s(1, dpi=72).set(queue="video", countdown=3)
    signature.link(b.s())
    signature.link_error(c.s())
    (node,) = compile_plan(signature.set(task_id="abc"))
    assert node.args == (1,)
    assert node.kwargs == {"dpi": 72}
    assert node.options == {"queue": "video", "countdown": 3}


def test_container_options_are_inherited():
    """Options of a group or chain apply to its nodes; a node's own win."""
    canvas = chain(
        c.s(),
        group(a.s(), b.s().set(queue="cpu")).set(queue="gpu"),
    ).set(priority=5)
    assert [node.options for node in compile_plan(canvas)] == [
        {"priority": 5},
        {"queue": "gpu", "priority": 5},
        {"queue": "cpu", "priority": 5},
    ]


def not_a_task(value=None):
    """A plain function."""


@pytest.mark.parametrize(
    "canvas,fragment",
    [
        (None, "as the workflow definition, got NoneType"),
        ("tests.tasks:a", "as the workflow definition, got str"),
        (42, "got int"),
        ({"foo": "bar"}, "got dict"),
        (not_a_task, "got function"),
        (Task, "got type"),
        (group(a.s(), "b"), "at '0.1' of the workflow definition, got str"),
        (_chain(a.s(), group(b.s(), None)), "at '1.1' of the workflow definition"),
        (_chain(a.s(), _chain(b.s(), 3)), "at '2' of the workflow definition, got int"),
        (chord([a.s(), [b.s()]], c.s()), "at '0.1' of the workflow definition"),
        (chain(), "Empty chain at the top level"),
        (group(), "Empty group at '0'"),
        (group([]), "Empty group at '0'"),
        (a.s() | group(b.s(), group()), "Empty group at '1.1'"),
        (chord([], c.s()), "Empty chord header at '0'"),
    ],
)
def test_invalid_definitions(canvas, fragment):
    """Anything else is refused with its type and place."""
    with pytest.raises(InvalidDefinitionError) as info:
        compile_plan(canvas)
    assert fragment in str(info.value)


def test_task_class_hint():
    """A task class gets a hint to use the task object."""
    with pytest.raises(InvalidDefinitionError, match="not its class"):
        compile_plan(Task)


def test_arguments_on_containers_are_refused():
    """Arguments bound on a chain or group are refused."""
    bound_chain = chain(a.s(), b.s())
    bound_chain.args = (1,)
    with pytest.raises(InvalidDefinitionError, match="bound on a chain at the top"):
        compile_plan(bound_chain)
    bound_group = group(a.s(), b.s())
    bound_group.args = (1,)
    with pytest.raises(InvalidDefinitionError, match="bound on a group at '0'"):
        compile_plan(bound_group)
