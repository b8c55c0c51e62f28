"""instrument answers: a consent's or decline's answers to questions without a column of
their own (those a newer instrument version adds), so none is dropped

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("consent", "decline")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("answers", sa.JSON(), nullable=False, server_default="{}")
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("answers")
