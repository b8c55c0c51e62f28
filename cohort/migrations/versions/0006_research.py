"""research: project approvals and members' removal, extracts and who each one holds

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 04:05:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead", _text(200), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("approval_reference", _text(64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("approved_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("approved_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("variables", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(
            sa.Column("date_granularity", _text(8), nullable=False, server_default="month")
        )
        batch_op.add_column(
            sa.Column("row_level", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("projectmember", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "added_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "extract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", _text(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("extract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_extract_project_id"), ["project_id"], unique=False)
    op.create_table(
        "extractmember",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("extract_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["extract_id"], ["extract.id"]),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("extract_id", "participant_id"),
    )
    with op.batch_alter_table("extractmember", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extractmember_extract_id"), ["extract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_extractmember_participant_id"), ["participant_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("extractmember")
    op.drop_table("extract")
    with op.batch_alter_table("projectmember", schema=None) as batch_op:
        batch_op.drop_column("removed_at")
        batch_op.drop_column("added_at")
    with op.batch_alter_table("project", schema=None) as batch_op:
        for column in (
            "row_level",
            "date_granularity",
            "variables",
            "approved_until",
            "approved_from",
            "approval_reference",
            "lead",
        ):
            batch_op.drop_column(column)
