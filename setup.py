# SPDX-License-Identifier: MIT
"""Invenio module that runs workflows of Celery tasks as searchable records."""

from setuptools import setup

setup()
