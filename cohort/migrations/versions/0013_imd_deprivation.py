"""imd: the operator-loaded postcode-to-IMD-decile lookup, and the deprivation decile
beside age band and ethnicity on consents, declines and birth counts (no postcode)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 13:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Names the unnamed unique constraint of 0012 on SQLite (reflected) as PostgreSQL does.
NAMES = {"uq": "%(table_name)s_%(column_0_N_name)s_key"}
OLD_KEY = ["file_sha256", "month", "age_band", "ethnicity"]


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _key(columns: list[str]) -> str:
    return "birthcount_" + "_".join(columns) + "_key"


def upgrade() -> None:
    op.create_table(
        "imdpostcode",
        sa.Column("postcode", _text(8), nullable=False),
        sa.Column("decile", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("postcode"),
    )
    op.create_table(
        "imdlookup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", _text(255), nullable=False),
        sa.Column("sha256", _text(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded_by", _text(64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for table in ("consent", "decline"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("imd_decile", sa.Integer(), nullable=True))
    with op.batch_alter_table("birthcount", naming_convention=NAMES) as batch_op:
        batch_op.add_column(sa.Column("imd_decile", _text(2), nullable=False, server_default=""))
        batch_op.drop_constraint(_key(OLD_KEY), type_="unique")
        batch_op.create_unique_constraint(_key([*OLD_KEY, "imd_decile"]), [*OLD_KEY, "imd_decile"])


def downgrade() -> None:
    with op.batch_alter_table("birthcount", naming_convention=NAMES) as batch_op:
        batch_op.drop_constraint(_key([*OLD_KEY, "imd_decile"]), type_="unique")
        batch_op.create_unique_constraint(_key(OLD_KEY), OLD_KEY)
        batch_op.drop_column("imd_decile")
    for table in ("decline", "consent"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("imd_decile")
    op.drop_table("imdlookup")
    op.drop_table("imdpostcode")
