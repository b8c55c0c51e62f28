"""consent capture: how the discussion was held, and one-time submission tokens

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interpreter_used", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("leaflet_given", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "leaflet_language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
            )
        )

    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_token"), ["token"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_token"))

    op.drop_table("submission")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_column("leaflet_language")
        batch_op.drop_column("leaflet_given")
        batch_op.drop_column("interpreter_used")
