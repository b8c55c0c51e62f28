"""births: all births in each delivered maternity file, counted by month, the mother's age
band and ethnicity, for the representativeness page (counts only, no identifiers)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 09:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "birthcount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", _text(64), nullable=False),
        sa.Column("file_sha256", _text(64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("month", _text(7), nullable=False),
        sa.Column("age_band", _text(16), nullable=False),
        sa.Column("ethnicity", _text(64), nullable=False),
        sa.Column("births", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_sha256", "month", "age_band", "ethnicity"),
    )
    with op.batch_alter_table("birthcount", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_birthcount_file_sha256"), ["file_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_birthcount_month"), ["month"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("birthcount", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_birthcount_month"))
        batch_op.drop_index(batch_op.f("ix_birthcount_file_sha256"))
    op.drop_table("birthcount")
