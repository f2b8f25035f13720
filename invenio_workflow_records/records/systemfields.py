# SPDX-License-Identifier: MIT
"""System fields of the workflow records."""

import uuid

from invenio_pidstore.errors import PIDDoesNotExistError
from invenio_records.systemfields import SystemField, SystemFieldContext


class RecordIdentifier:
    """The record's UUID presented the way services expect a PID to look."""

    def __init__(self, record_id):
        """Wrap the record's UUID."""
        self.pid_value = str(record_id)

    def __str__(self):
        """The UUID as text."""
        return self.pid_value


class RecordIdFieldContext(SystemFieldContext):
    """Class-level access to :class:`RecordIdField`: resolving ids."""

    def resolve(self, pid_value, registered_only=True):
        """Fetch the record with this UUID, or raise ``PIDDoesNotExistError``.

        Anything that is not a UUID is treated as an unknown id, so that
        malformed ids in URLs give 404, never 500.
        """
        pid_type = self.record_cls.pid_type
        try:
            record_id = uuid.UUID(str(pid_value))
        except ValueError:
            raise PIDDoesNotExistError(pid_type, pid_value)
        model_cls = self.record_cls.model_cls
        model = (
            model_cls.query.filter_by(id=record_id).populate_existing().one_or_none()
        )
        if model is None or model.json is None:
            raise PIDDoesNotExistError(pid_type, pid_value)
        return self.record_cls(model.data, model=model)

    def session_merge(self, record):
        """Nothing to merge: the identifier lives in the record's own row."""


class RecordIdField(SystemField):
    """Use the record's UUID as its public identifier (no PID table).

    Workflows and tasks are operational records: they need no persistent
    identifier of their own, so the primary key is what appears in URLs.
    """

    def __get__(self, record, owner=None):
        """The identifier on an instance, the resolver on the class."""
        if record is None:
            return RecordIdFieldContext(self, owner)
        if record.id is None:
            return None
        return RecordIdentifier(record.id)


class ColumnCopyField(SystemField):
    """Copy a top-level key of the record's data into a model column.

    The JSON document stays the whole truth; the column exists only so that
    the database can look records up (and enforce uniqueness) without
    reading JSON. The copy is made before every insert and update.
    """

    def __init__(self, key, column=None, cast=None):
        """Copy ``data[key]`` into ``model.<column>``, through ``cast``."""
        super().__init__(key=key)
        self.column = column or key
        self.cast = cast

    def _copy(self, record):
        value = record.get(self.key)
        if value is not None and self.cast is not None:
            value = self.cast(value)
        setattr(record.model, self.column, value)

    def pre_create(self, record):
        """Fill the column before the row is inserted."""
        self._copy(record)

    def pre_commit(self, record):
        """Keep the column in step with the data on every save."""
        self._copy(record)

    def __get__(self, record, owner=None):
        """The value in the record's data."""
        if record is None:
            return self
        return record.get(self.key)


class ModelInitField(SystemField):
    """Set a model column from a keyword given when the record is created.

    For columns that are not part of the JSON document, such as a task's
    position in its plan: ``TaskRecord.create(data, position=3)``.
    """

    def __init__(self, column):
        """Fill ``model.<column>`` from the ``<column>`` keyword."""
        super().__init__(key=column)
        self.column = column

    def post_init(self, record, data, model=None, field_data=None):
        """Copy the keyword (given under the field's attribute name) onto the model."""
        if model is not None and field_data is not None:
            setattr(model, self.column, field_data)

    def __get__(self, record, owner=None):
        """The column's value."""
        if record is None:
            return self
        return getattr(record.model, self.column, None)


class IndexQueueField(SystemField):
    """Put the record on the module's index queue whenever it is saved.

    Saves through the records API (creation, tests, host modules) flag the
    row ``index_dirty`` like the engine's own writes do; with ``sequence``
    the row's ``index_seq`` (the version of its search document) moves too.
    """

    def __init__(self, sequence=False):
        """Flag the row; bump ``index_seq`` too with ``sequence``."""
        super().__init__()
        self.sequence = sequence

    def _flag(self, record, bump):
        record.model.index_dirty = True
        if self.sequence and bump:
            record.model.index_seq = (record.model.index_seq or 1) + 1

    def pre_create(self, record):
        """A new row is to be indexed."""
        self._flag(record, bump=False)

    def pre_commit(self, record):
        """A changed row is to be indexed again."""
        self._flag(record, bump=True)

    def __get__(self, record, owner=None):
        """Whether the record waits to be indexed."""
        if record is None:
            return self
        return getattr(record.model, "index_dirty", None)
