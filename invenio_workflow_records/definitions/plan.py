# SPDX-License-Identifier: MIT
"""Compilation of a Celery canvas into a plan: a DAG of task nodes.

A definition is a Celery canvas (signatures, ``chain``, ``group``, ``chord``,
nested freely) or a bare task object wherever a signature is allowed. The
engine does not hand the canvas to Celery: it compiles it once into a list of
:class:`PlanNode` and dispatches every node on its own when its parents have
succeeded. Results are passed the way Celery passes them.

Normalisation, applied before keys are given:

* the whole definition is read as a chain; a definition that is not a chain
  is a chain of one element;
* a chain directly inside a chain is spliced into it, as Celery itself does
  for ``chain(chain(a, b), c)``;
* a chord is the chain of its header (a group) and its body, so
  ``chord([a, b], c)``, ``group(a, b) | c`` and ``chain(group(a, b), c)``,
  which Celery turns into the same ``_chord``, give the same plan. A chord
  without a body is its header group.

Key scheme: a key is the dotted index path of the node in the normalised
definition. The elements of the top-level chain are ``"0"``, ``"1"``, ...;
member ``j`` of a group at path ``p`` is ``p.j``; element ``i`` of a chain
that is a group member at path ``p`` is ``p.i``. Examples::

    a                           -> a "0"
    a | b | c                   -> a "0", b "1", c "2"
    group(a, b)                 -> a "0.0", b "0.1"
    chord([a, b], c)            -> a "0.0", b "0.1", c "1"
    chain(a, group(b, c), d)    -> a "0", b "1.0", c "1.1", d "2"
    group(chain(a, b), c) | d   -> a "0.0.0", b "0.0.1", c "0.1", d "1"
    group(chord([a, b], c), d)  -> a "0.0.0.0", b "0.0.0.1", c "0.0.1", d "0.1"

The same definition always gives the same keys, in the same (plan) order:
depth first, left to right, which is a topological order.

Result passing:

* the element after a single task, or after a chain ending in a single
  task, receives that task's result as first positional argument
  (``input="single"``);
* the element after a group (a chord header, or a chain ending in a group)
  receives the list of the group's results in member order
  (``input="list"``), even when the group has one member;
* a group inside a group is flattened for result passing: the results of
  ``group(a, group(b, c))`` are ``[a, b, c]``, not ``[a, [b, c]]``;
* every member of a group receives what the group receives;
* an immutable signature (``.si()``) waits for its parents but receives
  nothing from them (``input="none"``), like a node without parents.

Options set on a chain, group or chord (``group(...).set(queue="gpu")``) are
given to every node inside it; options set on the node itself win.
Positional or keyword arguments bound on a chain, group or chord are refused:
bind them on the signatures.
"""

from dataclasses import dataclass, field

from celery import Task
from celery.canvas import Signature, _chain, _chord, group, signature

from .errors import InvalidDefinitionError

INPUT_NONE = "none"
INPUT_SINGLE = "single"
INPUT_LIST = "list"

#: Options that Celery sets for its own bookkeeping (ids, callbacks, chord and
#: group membership, stamping). They are not part of a definition.
CELERY_INTERNAL_OPTIONS = frozenset(
    {
        "chain",
        "chord",
        "group_id",
        "group_index",
        "link",
        "link_error",
        "parent_id",
        "reply_to",
        "root_id",
        "stamped_headers",
        "stamps",
        "task_id",
        "use_link",
    }
)


@dataclass(frozen=True)
class PlanNode:
    """One task of a compiled plan.

    ``key`` is the node's stable place in the definition (see the module
    documentation), ``task`` the Celery task name, ``parents`` the keys of
    the nodes it waits for, in the order in which their results are passed,
    ``args``, ``kwargs`` and ``options`` what the signature itself binds,
    ``immutable`` whether it was made with ``.si()``, and ``input`` how the
    parents' results reach it: ``"none"``, ``"single"`` (first positional
    argument) or ``"list"`` (list of the parents' results as first argument).
    """

    key: str
    task: str
    parents: tuple = ()
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    immutable: bool = False
    input: str = INPUT_NONE


class _Header:
    """The header of a chord, read as a group."""

    def __init__(self, tasks):
        self.tasks = tasks


def compile_plan(canvas):
    """Compile a canvas into the list of its nodes, in plan order.

    Raises :class:`InvalidDefinitionError` naming the offending object and its
    place when the canvas holds something that is not a signature, a canvas
    or a task, or an empty chain or group.
    """
    compiler = _Compiler()
    root = _coerce(canvas, None)
    path = "" if _is_chain(root) else "0"
    compiler.compile(root, path, parents=(), list_input=False, inherited={})
    return compiler.nodes


def _join(path, index):
    """Key of element ``index`` below ``path``."""
    return f"{path}.{index}" if path else str(index)


def _where(path):
    """Human-readable place of ``path`` for error messages."""
    if path is None:
        return "as the workflow definition"
    if path == "":
        return "at the top level of the workflow definition"
    return f"at {path!r} of the workflow definition"


def _coerce(obj, path):
    """Return ``obj`` as a signature, canvas, task or chord header, or raise."""
    if isinstance(obj, (Task, _Header)):
        return obj
    if isinstance(obj, Signature):
        if type(obj) is Signature and obj.subtask_type in Signature.TYPES:
            # A canvas that was rebuilt as a plain signature.
            return signature(dict(obj))
        return obj
    if isinstance(obj, dict) and "task" in obj:
        try:
            return signature(obj)
        except Exception as error:
            raise InvalidDefinitionError(
                f"Invalid signature dict {_where(path)}: {error}"
            ) from error
    if isinstance(obj, type) and issubclass(obj, Task):
        hint = "; use the task object (the decorated function), not its class"
    else:
        hint = ""
    raise InvalidDefinitionError(
        "Expected a Celery signature, canvas or task "
        f"{_where(path)}, got {type(obj).__name__} {_short_repr(obj)}{hint}."
    )


def _short_repr(obj, limit=60):
    """A shortened ``repr`` for error messages."""
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_chain(obj):
    """Whether ``obj`` is read as a chain (a chain or a chord)."""
    return isinstance(obj, (_chain, _chord))


def _is_group(obj):
    """Whether ``obj`` is read as a group (a group or a chord header)."""
    return isinstance(obj, (group, _Header))


def _own_options(obj):
    """The options an object sets itself, without Celery's internal ones."""
    if not isinstance(obj, Signature):
        return {}
    internal = CELERY_INTERNAL_OPTIONS.union(obj.options.get("stamped_headers") or ())
    return {k: v for k, v in obj.options.items() if k not in internal}


def _check_no_bound_arguments(obj, path):
    """Refuse arguments bound on a chain, group or chord."""
    bound_kwargs = obj.kwargs.get("kwargs") if isinstance(obj, _chord) else None
    if obj.args or bound_kwargs:
        kind = type(obj).__name__.lstrip("_")
        raise InvalidDefinitionError(
            f"Arguments bound on a {kind} {_where(path)} are not supported; "
            "bind them on its signatures."
        )


def _chain_elements(obj):
    """The direct elements of a chain or a chord."""
    if isinstance(obj, _chord):
        header = obj.tasks
        if not isinstance(header, group):
            header = _Header(tuple(header))
        return [header] if obj.body is None else [header, obj.body]
    return list(obj.tasks)


class _Compiler:
    """Walks a canvas and collects its plan nodes."""

    def __init__(self):
        """Start with an empty plan."""
        self.nodes = []

    def compile(self, obj, path, parents, list_input, inherited):
        """Add the nodes of ``obj`` at ``path``.

        ``parents`` are the keys whose results ``obj`` receives, as a list
        when ``list_input`` is true. Returns the keys of the terminal nodes
        of ``obj`` and whether ``obj`` ends with a group.
        """
        if _is_chain(obj):
            return self._chain(obj, path, parents, list_input, inherited)
        if _is_group(obj):
            return self._group(obj, path, parents, list_input, inherited)
        self._task(obj, path, parents, list_input, inherited)
        return (path,), False

    def _chain(self, obj, path, parents, list_input, inherited):
        """Compile a chain: each element receives the previous one's results."""
        elements = []
        self._splice(obj, path, inherited, elements)
        if not elements:
            raise InvalidDefinitionError(f"Empty chain {_where(path)}.")
        for index, (element, options) in enumerate(elements):
            parents, list_input = self.compile(
                element, _join(path, index), parents, list_input, options
            )
        return parents, list_input

    def _splice(self, obj, path, inherited, elements):
        """Append the elements of a chain to ``elements``, splicing sub-chains."""
        _check_no_bound_arguments(obj, path)
        options = {**inherited, **_own_options(obj)}
        for element in _chain_elements(obj):
            element = _coerce(element, _join(path, len(elements)))
            if _is_chain(element):
                self._splice(element, path, options, elements)
            else:
                elements.append((element, options))

    def _group(self, obj, path, parents, list_input, inherited):
        """Compile a group: members run side by side on the same input."""
        if isinstance(obj, group):
            _check_no_bound_arguments(obj, path)
        options = {**inherited, **_own_options(obj)}
        terminals = []
        for index, member in enumerate(obj.tasks):
            member_path = _join(path, index)
            member = _coerce(member, member_path)
            member_terminals, _ = self.compile(
                member, member_path, parents, list_input, options
            )
            terminals.extend(member_terminals)
        if not terminals:
            kind = "chord header" if isinstance(obj, _Header) else "group"
            raise InvalidDefinitionError(f"Empty {kind} {_where(path)}.")
        return tuple(terminals), True

    def _task(self, obj, path, parents, list_input, inherited):
        """Add one node for a signature or a bare task."""
        if isinstance(obj, Task):
            name, args, kwargs, immutable = obj.name, (), {}, False
        else:
            name, args, kwargs = obj.task, tuple(obj.args), dict(obj.kwargs)
            immutable = bool(obj.immutable)
        if not isinstance(name, str) or not name:
            raise InvalidDefinitionError(
                f"Task without a name {_where(path)}: {_short_repr(obj)}."
            )
        if immutable or not parents:
            input_ = INPUT_NONE
        else:
            input_ = INPUT_LIST if list_input else INPUT_SINGLE
        self.nodes.append(
            PlanNode(
                key=path,
                task=name,
                parents=tuple(parents),
                args=args,
                kwargs=kwargs,
                options={**inherited, **_own_options(obj)},
                immutable=immutable,
                input=input_,
            )
        )
