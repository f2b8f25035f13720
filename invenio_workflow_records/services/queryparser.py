# SPDX-License-Identifier: MIT
"""One rule for the ``q`` of every search: a query that cannot be parsed is a 400.

records-resources' parser searches an unparsable query as plain words, while
a parsable query that the search engine cannot run is a 400: ``q=(`` then
answered 200 and ``q=started_at:>2026-12-01T03:39:00`` (a colon in a value)
400. Here both are 400, with a hint on quoting, so a user always learns that
the query was not understood.
"""

from invenio_records_resources.services.records.queryparser import QueryParser
from luqum.exceptions import ParseError
from luqum.parser import parser as luqum_parser
from marshmallow import ValidationError

HINT = (
    "Invalid query string syntax: {error}. Quote values with spaces or special "
    'characters (name:"my workflow"); for dates use a date without time '
    "(started_at:>2026-12-01) or the started_at_after=2026-12-01T03:39:00 "
    "argument (also created_*, finished_at_*, _after or _before)."
)


class StrictQueryParser(QueryParser):
    """Query-string parser that answers 400 for a query it cannot parse."""

    def parse(self, query_str):
        """The search query of ``query_str``; ValidationError on bad syntax."""
        try:
            luqum_parser.parse(query_str)
        except ParseError as error:
            raise ValidationError({"q": [HINT.format(error=error)]})
        return super().parse(query_str)
