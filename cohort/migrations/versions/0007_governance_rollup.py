"""governance: the consent-rate roll-up of closed days and months

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 04:45:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "approachcount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", _text(10), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("split", _text(16), nullable=False),
        sa.Column("value", _text(64), nullable=False),
        sa.Column("consented", sa.Integer(), nullable=False),
        sa.Column("declined", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bucket", "site_id", "split", "value"),
    )


def downgrade() -> None:
    op.drop_table("approachcount")
