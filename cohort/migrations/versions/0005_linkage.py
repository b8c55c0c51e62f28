"""linkage: runs, the clerical review queue, children's study IDs and per-source locks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 03:40:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _indexes(table: str, columns: dict[str, bool]) -> None:
    """One ``ix_<table>_<column>`` index per column (True: unique), as the models name them."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column, unique in columns.items():
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=unique)


def upgrade() -> None:
    op.create_table(
        "linkagelock",
        sa.Column("source", _text(64), nullable=False),
        sa.Column("holder", _text(128), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "linkagerun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", _text(64), nullable=False),
        sa.Column("file_name", _text(255), nullable=False),
        sa.Column("file_sha256", _text(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", _text(32), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rejections", sa.JSON(), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("match_rate", sa.Float(), nullable=True),
        sa.Column("consent_filtered", sa.Integer(), nullable=False),
        sa.Column("clerical_queued", sa.Integer(), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("model_version", _text(64), nullable=True),
        sa.Column("stage", _text(32), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes(
        "linkagerun", {"file_sha256": False, "outcome": False, "source": False, "started_at": False}
    )
    op.create_table(
        "clericalpair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", _text(64), nullable=False),
        sa.Column("record_key", _text(64), nullable=False),
        sa.Column("study_id", _text(16), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("comparison", sa.Text(), nullable=False),
        sa.Column("child_nhs_index", _text(64), nullable=True),
        sa.Column("child_birth_key", _text(64), nullable=True),
        sa.Column("decision", _text(16), nullable=False),
        sa.Column("decided_by", _text(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["linkagerun.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "record_key"),
    )
    _indexes("clericalpair", {"decision": False, "run_id": False, "source": False})
    op.create_table(
        "childparticipant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", _text(16), nullable=False),
        sa.Column("mother_id", sa.Integer(), nullable=False),
        sa.Column("nhs_index", _text(64), nullable=True),
        sa.Column("birth_key", _text(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mother_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes(
        "childparticipant",
        {"birth_key": False, "mother_id": False, "nhs_index": True, "study_id": True},
    )


def downgrade() -> None:
    for table in ("childparticipant", "clericalpair", "linkagerun", "linkagelock"):
        op.drop_table(table)  # their indexes go with them
