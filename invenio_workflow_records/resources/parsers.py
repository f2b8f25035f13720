# SPDX-License-Identifier: MIT
r"""Strict parsing of JSON request bodies.

Python's ``json`` module accepts more than the databases and search engines
behind this module can store: ``NaN`` and ``Infinity``, the NUL character
(``\u0000``), lone UTF-16 surrogates (``\ud800``), UTF-8 encoded
surrogates, integers of any length and arbitrarily deep nesting. Each of them
used to surface as a 500 somewhere between the service and PostgreSQL. The
:class:`StrictJSONDeserializer` refuses them while parsing, with a 400 that
names the offending field, before any service code (or permission check)
runs, so a rejected request writes nothing.
"""

import json
import math
import re

from flask_resources import JSONDeserializer, RequestBodyParser
from flask_resources.config import ConfigAttrValue

from .errors import InvalidRequestBodyError

MAX_DEPTH = 64
"""How deeply arrays and objects may nest in a request body."""

MAX_REPORTED_ERRORS = 20
"""At most this many bad fields are listed in one answer."""

MAX_FIELD_LENGTH = 100
"""Longer keys are shortened in the field paths of error answers."""

_FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
"""NUL and the surrogate range: no valid JSON string that can be stored has them.

Once decoded, a well-formed surrogate pair is a single code point outside
this range, so whatever of the range is left is a lone surrogate.
"""

_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8"}


class _NotANumber:
    """A number the JSON parser read but that no JSON document may hold."""

    def __init__(self, message):
        self.message = message


def _parse_constant(name):
    """``NaN``, ``Infinity`` and ``-Infinity``: extensions of Python's parser."""
    return _NotANumber(f"{name} is not a valid JSON number.")


def _parse_float(text):
    """A finite float, or a marker for a number like ``1e999``."""
    value = float(text)
    if math.isfinite(value):
        return value
    return _NotANumber("The number is too large to be stored.")


def _parse_int(text):
    """An integer, or a marker when it has too many digits to convert."""
    try:
        return int(text)
    except ValueError:
        return _NotANumber("The number has too many digits.")


def _escape(text):
    r"""``text`` with NUL and lone surrogates written as ``\uXXXX``, shortened."""
    if len(text) > MAX_FIELD_LENGTH:
        text = text[:MAX_FIELD_LENGTH] + "..."
    return _FORBIDDEN_CHARACTERS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _field(path):
    """The dotted field path of ``path`` (``_schema`` for the whole body)."""
    if not path:
        return "_schema"
    return ".".join(_escape(str(part)) for part in path)


def _string_problem(text, what):
    """Why ``text`` cannot be stored, or None."""
    match = _FORBIDDEN_CHARACTERS.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return f"{what} may not contain the NUL character (\\u0000)."
    return (
        f"{what} may not contain a lone surrogate "
        f"(\\u{ord(match.group()):04x}); encode the text as UTF-8."
    )


def decode_body(data):
    """The text of a JSON body: UTF-8 (or the UTF-16/32 JSON allows), strictly.

    Unlike ``json.loads``, which lets UTF-8 encoded surrogates through, any
    invalid byte sequence is a 400.
    """
    if isinstance(data, str):
        return data
    encoding = json.detect_encoding(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        name = _ENCODING_NAMES.get(encoding, encoding.upper())
        raise InvalidRequestBodyError(
            f"The request body is not valid {name}: {error.reason} "
            f"at byte {error.start}."
        )


def find_problems(value, max_depth=MAX_DEPTH, limit=MAX_REPORTED_ERRORS):
    """``(field, message)`` pairs for what in ``value`` cannot be stored.

    ``value`` is a parsed JSON document. It is walked without recursion, so
    that its depth cannot exhaust the stack; the walk stops below
    ``max_depth`` levels and after ``limit`` problems.
    """
    problems = []
    stack = [(value, (), 0)]
    while stack and len(problems) < limit:
        node, path, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth >= max_depth:
                problems.append(
                    (_field(path), f"Nested deeper than {max_depth} levels.")
                )
                continue
            if isinstance(node, dict):
                children = []
                for key, child in node.items():
                    problem = _string_problem(key, "Keys")
                    if problem:
                        problems.append((_field(path + (key,)), problem))
                    children.append((child, path + (key,), depth + 1))
            else:
                children = [
                    (child, path + (index,), depth + 1)
                    for index, child in enumerate(node)
                ]
            # Reversed, so that problems are reported in document order.
            stack.extend(reversed(children))
        elif isinstance(node, str):
            problem = _string_problem(node, "Strings")
            if problem:
                problems.append((_field(path), problem))
        elif isinstance(node, _NotANumber):
            problems.append((_field(path), node.message))
    return problems[:limit]


class StrictJSONDeserializer(JSONDeserializer):
    """A JSON deserializer that refuses what cannot be stored, with a 400.

    Refused: bytes that are not valid UTF-8 (or UTF-16/32), malformed JSON,
    nesting deeper than ``max_depth``, ``NaN``/``Infinity``/``-Infinity``
    and numbers that overflow, and any string or object key holding NUL or
    a lone surrogate. An empty body is ``None``, as with
    :class:`flask_resources.JSONDeserializer`.
    """

    def __init__(self, max_depth=MAX_DEPTH):
        """Deserializer allowing ``max_depth`` levels of nesting."""
        self.max_depth = max_depth

    def deserialize(self, data):
        """The parsed body, or :class:`InvalidRequestBodyError` (400)."""
        if not data:
            return None
        text = decode_body(data)
        try:
            value = json.loads(
                text,
                parse_constant=_parse_constant,
                parse_float=_parse_float,
                parse_int=_parse_int,
            )
        except RecursionError:
            raise InvalidRequestBodyError(
                f"The JSON request body is nested deeper than {self.max_depth} "
                "levels."
            )
        except json.JSONDecodeError as error:
            raise InvalidRequestBodyError(
                "Unable to decode JSON data in request body: "
                f"{error.msg} at line {error.lineno}, column {error.colno}."
            )
        problems = find_problems(value, self.max_depth)
        if problems:
            raise InvalidRequestBodyError(
                "Invalid JSON request body.",
                errors=[
                    {"field": field, "messages": [message]}
                    for field, message in problems
                ],
            )
        return value


class StrictJSONBodyParser(RequestBodyParser):
    """Request body parser of ``application/json`` with strict decoding."""

    def __init__(self, deserializer=None):
        """Parser using ``deserializer``, a strict JSON one by default."""
        super().__init__(deserializer or StrictJSONDeserializer())


def strict(parser):
    """``parser``, or a strict one if it is the stock JSON body parser."""
    if type(parser) is RequestBodyParser and (
        type(parser.deserializer) is JSONDeserializer
    ):
        return StrictJSONBodyParser()
    return parser


class StrictBodyParsersFromConf(ConfigAttrValue):
    """Body parsers read from the resource config, the stock JSON one made strict.

    A resource config naming ``RequestBodyParser(JSONDeserializer())`` (the
    flask-resources default) gets :class:`StrictJSONBodyParser` instead; any
    other parser is used as configured.
    """

    def resolve(self, config):
        """The parsers of ``config``, by media type (parameters ignored)."""
        parsers = super().resolve(config)
        return ParsersByMediaType(
            {content_type: strict(p) for content_type, p in parsers.items()}
        )


class ParsersByMediaType(dict):
    """Parsers looked up by media type: ``application/json; charset=utf-8`` too.

    flask-resources looks parsers up by the whole ``Content-Type`` header, so
    the charset parameter most HTTP clients send would be a 415.
    """

    def get(self, content_type, default=None):
        """The parser of ``content_type``'s media type, without its parameters."""
        if content_type is None:
            return default
        media_type = content_type.split(";", 1)[0].strip().lower()
        return super().get(media_type, default)
