# SPDX-License-Identifier: MIT
"""Links of the lists that are not searches (task lists, revisions)."""

from flask import request


def page_links(page, size, total):
    """``self``, ``prev`` and ``next`` links of one page of a list."""

    def url(number):
        return f"{request.base_url}?page={number}&size={size}"

    links = {"self": url(page)}
    if page > 1:
        links["prev"] = url(page - 1)
    if page * size < total:
        links["next"] = url(page + 1)
    return links
