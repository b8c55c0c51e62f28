"""linkage run quality: precision, recall and F1 of a run over a synthetic delivery,
against its ground truth (null for a partner's real file)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("linkagerun", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("linkagerun", schema=None) as batch_op:
        batch_op.drop_column("quality")
