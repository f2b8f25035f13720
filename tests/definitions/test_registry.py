# SPDX-License-Identifier: MIT
"""Tests of the definition registry and of the Workflow base class."""

from importlib.metadata import EntryPoint

import pytest

from invenio_workflow_records.definitions import (
    DefinitionError,
    DefinitionImportError,
    DefinitionRegistry,
    InvalidDefinitionError,
    InvalidParamsError,
    UnknownWorkflowError,
    Workflow,
    WorkflowDefinition,
    compile_plan,
)

from . import example_tasks
from .example_tasks import Extraction, a, b

MODULE = "tests.definitions.example_tasks"
GROUP = "invenio_workflow_records.definitions"


def entry_point(name, value):
    """An entry point of the definitions group."""
    return EntryPoint(name=name, value=value, group=GROUP)


def registry(definitions=None, entry_points=(), **kwargs):
    """A registry that reads no installed entry points by default."""
    return DefinitionRegistry(definitions, entry_points=entry_points, **kwargs)


def test_workflow_definition_by_import_string():
    """``workflow_definition`` may be the import string of a canvas."""
    definitions = registry(
        {"pdf": {"workflow_definition": f"{MODULE}:extraction", "title": "PDF"}}
    )
    definition = definitions.get("pdf")
    assert isinstance(definition, WorkflowDefinition)
    assert definition.name == "pdf"
    assert definition.title == "PDF"
    assert definition.workflow_class is None
    assert definition.canvas is example_tasks.extraction
    assert [node.key for node in definition.plan()] == ["0", "1", "2"]
    assert definition.params_schema is None
    assert definition.default_params == {}
    assert definition.permission_factory is None


def test_workflow_definition_object_and_dotted_string():
    """A canvas object and a dotted import string work too."""
    definitions = registry(
        {
            "object": {"workflow_definition": a.s() | b.s()},
            "dotted": {"workflow_definition": f"{MODULE}.extraction"},
        }
    )
    assert len(definitions.get("object").plan()) == 2
    assert definitions.get("dotted").canvas is example_tasks.extraction
    assert definitions.get("object").title == "object"


def test_workflow_class_attributes():
    """The attributes of a workflow class are used when config omits them."""
    definition = registry(
        {"extraction": {"workflow_class": f"{MODULE}:Extraction"}}
    ).get("extraction")
    assert definition.workflow_class is Extraction
    assert definition.title == "Extraction"
    assert definition.params_schema == Extraction.params_schema
    assert definition.default_params == {"dpi": 300, "nested": {"keep": True}}
    assert definition.permission_factory is example_tasks.permissions
    assert definition.plan() == Extraction.plan()
    assert isinstance(definition.create_workflow(record={"id": 1}), Extraction)


def test_config_overrides_class_attributes():
    """Values set in the config win over the class attributes."""
    definition = registry(
        {
            "extraction": {
                "workflow_class": Extraction,
                "title": "Other",
                "params_schema": {"type": "object"},
                "default_params": {"dpi": 150},
                "permission_factory": f"{MODULE}:default_permissions",
            }
        }
    ).get("extraction")
    assert definition.title == "Other"
    assert definition.params_schema == {"type": "object"}
    assert definition.default_params == {"dpi": 150}
    assert definition.permission_factory is example_tasks.default_permissions


def test_exactly_one_source():
    """A definition needs exactly one of workflow_class / workflow_definition."""
    definitions = registry(
        {
            "both": {"workflow_class": Extraction, "workflow_definition": a.s()},
            "none": {"title": "Nothing"},
        }
    )
    for name in ("both", "none"):
        with pytest.raises(DefinitionError, match=f"Workflow '{name}': set exactly"):
            definitions.get(name)


def test_unknown_keys_are_refused():
    """A misspelt key is reported instead of being ignored."""
    definitions = registry({"typo": {"workflow_definition": a.s(), "param_schema": {}}})
    with pytest.raises(DefinitionError, match="unknown keys 'param_schema'"):
        definitions.get("typo")


def test_workflow_class_must_subclass_workflow():
    """A workflow_class that is not a Workflow subclass is refused."""
    definitions = registry(
        {
            "not-a-class": {"workflow_class": f"{MODULE}:NotAWorkflow"},
            "no-canvas": {"workflow_class": f"{MODULE}:Empty"},
        }
    )
    with pytest.raises(InvalidDefinitionError, match="'not-a-class'.*subclass"):
        definitions.get("not-a-class")
    with pytest.raises(InvalidDefinitionError, match="'no-canvas' has no canvas"):
        definitions.get("no-canvas")


def test_import_strings_are_resolved_lazily():
    """A bad import string raises on ``get``, naming the workflow and string."""
    definitions = registry(
        {
            "module": {"workflow_definition": "no_such_module_xyz:canvas"},
            "attribute": {"workflow_class": f"{MODULE}:Missing"},
            "factory": {
                "workflow_definition": a.s(),
                "permission_factory": f"{MODULE}:missing_factory",
            },
        }
    )
    assert definitions.names() == ["attribute", "factory", "module"]
    with pytest.raises(DefinitionImportError) as info:
        definitions.get("module")
    message = str(info.value)
    assert "'module'" in message
    assert "'no_such_module_xyz:canvas'" in message
    assert "ModuleNotFoundError" in message
    assert info.value.import_string == "no_such_module_xyz:canvas"
    with pytest.raises(DefinitionImportError, match=f"'{MODULE}:Missing'"):
        definitions.get("attribute")
    with pytest.raises(DefinitionImportError, match="missing_factory.*AttributeError"):
        definitions.get("factory")


def test_resolution_is_cached():
    """A definition is resolved once."""
    definitions = registry({"pdf": {"workflow_definition": f"{MODULE}:extraction"}})
    definition = definitions.get("pdf")
    assert definitions.get("pdf") is definition
    assert definition.plan() == definition.plan()


def test_invalid_canvas_names_the_workflow():
    """An invalid canvas is reported with the workflow name and its place."""
    definition = registry({"bad": {"workflow_definition": [a.s()]}}).get("bad")
    with pytest.raises(InvalidDefinitionError, match="Workflow 'bad': .*got list"):
        definition.plan()


def test_unknown_workflow():
    """An unknown name raises UnknownWorkflowError."""
    definitions = registry({})
    assert "nope" not in definitions
    with pytest.raises(UnknownWorkflowError) as info:
        definitions.get("nope")
    assert info.value.name == "nope"
    assert "nope" in str(info.value)


def test_entry_points():
    """Entry points may load a Workflow subclass, a canvas or a dict."""
    definitions = registry(
        entry_points=[
            entry_point("by-class", f"{MODULE}:Extraction"),
            entry_point("by-canvas", f"{MODULE}:extraction"),
            entry_point("by-dict", f"{MODULE}:entry_point_definition"),
        ]
    )
    example_tasks.entry_point_definition = {
        "workflow_definition": f"{MODULE}:extraction",
        "title": "From a dict",
    }
    try:
        assert definitions.names() == ["by-canvas", "by-class", "by-dict"]
        assert "by-class" in definitions
        assert definitions.get("by-class").workflow_class is Extraction
        assert definitions.get("by-canvas").canvas is example_tasks.extraction
        assert definitions.get("by-dict").title == "From a dict"
        assert [name for name, _ in definitions.items()] == list(definitions)
    finally:
        del example_tasks.entry_point_definition


def test_config_wins_over_entry_points():
    """A config entry hides the entry point of the same name."""
    definitions = registry(
        {"pdf": {"workflow_definition": a.s(), "title": "Config"}},
        entry_points=[
            entry_point("pdf", "no_such_module_xyz:canvas"),
            entry_point("other", "no_such_module_xyz:other"),
        ],
    )
    assert definitions.get("pdf").title == "Config"
    assert definitions.names() == ["other", "pdf"]
    with pytest.raises(DefinitionImportError, match="'other'.*no_such_module_xyz"):
        definitions.get("other")


def test_entry_points_are_read_lazily():
    """Installed entry points are listed on first use only."""
    listed = []

    class Source:
        def __iter__(self):
            listed.append(True)
            return iter([entry_point("ep", f"{MODULE}:extraction")])

    definitions = registry({"pdf": {"workflow_definition": a.s()}}, Source())
    definitions.get("pdf")
    assert listed == []
    assert definitions.names() == ["ep", "pdf"]
    assert listed == [True]


def test_duplicate_entry_points():
    """Two entry points of one name are reported."""
    definitions = registry(
        entry_points=[
            entry_point("dup", f"{MODULE}:extraction"),
            entry_point("dup", f"{MODULE}:Extraction"),
        ]
    )
    with pytest.raises(DefinitionError, match="several entry points"):
        definitions.get("dup")


def test_installed_entry_points_by_default():
    """Without ``entry_points`` the installed distributions are read."""
    definitions = DefinitionRegistry({}, entry_point_group="no.such.group.xyz")
    assert definitions.names() == []


def test_default_permission_factory():
    """The default factory is used by definitions without their own."""
    definitions = registry(
        {
            "own": {"workflow_class": Extraction},
            "default": {"workflow_definition": a.s()},
        },
        default_permission_factory=f"{MODULE}:default_permissions",
    )
    assert definitions.get("own").permission_factory is example_tasks.permissions
    assert (
        definitions.get("default").permission_factory
        is example_tasks.default_permissions
    )


def test_bad_default_permission_factory_is_lazy():
    """A bad default factory string raises only when it is needed."""
    definitions = registry(
        {"default": {"workflow_definition": a.s()}},
        default_permission_factory="no_such_module_xyz:factory",
    )
    definition = definitions.get("default")
    with pytest.raises(DefinitionImportError, match="default permission factory"):
        definition.permission_factory


SCHEMA = {
    "type": "object",
    "properties": {
        "dpi": {"type": "integer", "minimum": 72},
        "lang": {"type": "string", "enum": ["en", "fr"]},
        "source": {"type": "string"},
        "pages": {"type": "array", "items": {"type": "integer"}},
        "size": {
            "type": "object",
            "properties": {"width": {"type": "integer"}},
            "required": ["width", "height"],
        },
    },
    "required": ["dpi", "source"],
    "additionalProperties": False,
}


def params_definition():
    """A definition with a schema and default params."""
    return registry(
        {
            "pdf": {
                "workflow_definition": a.s(),
                "params_schema": SCHEMA,
                "default_params": {"dpi": 300, "lang": "en", "pages": [1]},
            }
        }
    ).get("pdf")


def test_effective_params():
    """Data overlays the default params shallowly."""
    definition = params_definition()
    params = definition.effective_params({"lang": "fr", "source": "x"})
    assert params == {"dpi": 300, "lang": "fr", "pages": [1], "source": "x"}
    params["pages"].append(2)
    assert definition.default_params["pages"] == [1]
    with pytest.raises(InvalidParamsError):
        definition.effective_params(None)


def test_params_without_schema():
    """Without a schema the merged params are returned as they are."""
    definition = registry(
        {"pdf": {"workflow_definition": a.s(), "default_params": {"dpi": 300}}}
    ).get("pdf")
    assert definition.effective_params(None) == {"dpi": 300}
    assert definition.effective_params({"dpi": "x", "y": 1}) == {"dpi": "x", "y": 1}


def test_params_errors_list_every_field():
    """Every validation error is listed, by field."""
    definition = params_definition()
    with pytest.raises(InvalidParamsError) as info:
        definition.effective_params(
            {
                "dpi": 10,
                "lang": "de",
                "pages": [1, "two"],
                "size": {"width": "wide"},
                "extra": True,
            }
        )
    errors = {error["field"]: error["messages"] for error in info.value.errors}
    assert sorted(errors) == [
        "params",
        "params.dpi",
        "params.lang",
        "params.pages.1",
        "params.size.height",
        "params.size.width",
        "params.source",
    ]
    assert any("extra" in message for message in errors["params"])
    assert all(messages for messages in errors.values())
    assert "params.dpi" in str(info.value)


def test_params_must_be_an_object():
    """Params that are not an object are refused."""
    with pytest.raises(InvalidParamsError) as info:
        params_definition().effective_params(["dpi"])
    assert info.value.errors == [
        {"field": "params", "messages": ["Params must be an object."]}
    ]


@pytest.mark.parametrize(
    "spec,fragment",
    [
        ({"params_schema": {"type": "no-such-type"}}, "invalid params_schema"),
        ({"params_schema": "schema"}, "params_schema must be a dict"),
        ({"default_params": [1]}, "default_params must be a dict"),
    ],
)
def test_invalid_schema_or_defaults(spec, fragment):
    """An invalid schema or default params is a DefinitionError naming the workflow."""
    definitions = registry({"pdf": {"workflow_definition": a.s(), **spec}})
    with pytest.raises(DefinitionError, match=f"Workflow 'pdf': {fragment}"):
        definitions.get("pdf")


def test_workflow_base_class():
    """The Workflow base class keeps its records and lets the engine derive status."""
    workflow = Workflow(record={"id": "w"}, tasks=({"id": "t"},))
    assert workflow.record == {"id": "w"}
    assert workflow.tasks == [{"id": "t"}]
    assert workflow.status is None
    assert Workflow().tasks == []
    with pytest.raises(InvalidDefinitionError, match="does not set 'workflow'"):
        Workflow.plan()
    assert Extraction.plan() == compile_plan(Extraction.workflow)


def test_status_may_be_overridden():
    """A subclass may compute its own status."""

    class Custom(Workflow):
        workflow = a.s()

        @property
        def status(self):
            return "done" if all(t["ok"] for t in self.tasks) else "busy"

    assert Custom(tasks=[{"ok": True}]).status == "done"
    assert Custom(tasks=[{"ok": False}]).status == "busy"


def test_default_params_are_not_shared():
    """``default_params`` is copied on access, per class and per instance."""
    Extraction.default_params["dpi"] = 1
    Extraction.default_params["nested"]["keep"] = False
    assert Extraction.default_params == {"dpi": 300, "nested": {"keep": True}}
    Workflow.default_params["x"] = 1
    assert Workflow.default_params == {}
    assert example_tasks.Bare.default_params == {}
    instance = Extraction()
    instance.default_params = {"dpi": 1}
    assert instance.default_params == {"dpi": 1}
    assert Extraction.default_params["dpi"] == 300
