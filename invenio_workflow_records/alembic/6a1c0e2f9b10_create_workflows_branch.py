# SPDX-License-Identifier: MIT
"""Create the invenio_workflow_records branch."""

# revision identifiers, used by Alembic.
revision = "6a1c0e2f9b10"
down_revision = None
branch_labels = ("invenio_workflow_records",)
depends_on = "dbdbc1b19cf2"


def upgrade():
    """Upgrade database."""


def downgrade():
    """Downgrade database."""
