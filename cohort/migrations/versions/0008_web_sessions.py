"""web sessions: one row per signed-in browser, so sign-out revokes that session

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 06:45:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "websession",
        sa.Column("id_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("user_version", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_websession_user_id", "websession", ["user_id"], unique=False)
    op.create_index("ix_websession_started_at", "websession", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_websession_started_at", table_name="websession")
    op.drop_index("ix_websession_user_id", table_name="websession")
    op.drop_table("websession")
