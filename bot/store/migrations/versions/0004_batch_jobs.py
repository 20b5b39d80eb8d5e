"""Batch jobs: files scored now or on a schedule, and each of their runs (bot.jobs).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("top_k", sa.Integer(), nullable=True),
        sa.Column("rrule", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=True),
        sa.Column("starts", sa.Double(), nullable=True),
        sa.Column("ends", sa.Double(), nullable=True),
        sa.Column("only_when_changed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("next_run", sa.Double(), nullable=True),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.Text(), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("last_digest", sa.Text(), nullable=True),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_batch_jobs"),
    )
    op.create_index("ix_batch_jobs_owner_created", "batch_jobs", ["owner", "created"])
    op.create_index("ix_batch_jobs_next_run", "batch_jobs", ["next_run"])
    op.create_index("ix_batch_jobs_lease_until", "batch_jobs", ["lease_until"])
    op.create_table(
        "batch_runs",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started", sa.Double(), nullable=False),
        sa.Column("finished", sa.Double(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("not_predicted", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("digest", sa.Text(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["batch_jobs.job_id"], name="fk_batch_runs_job_id_batch_jobs",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "number", name="pk_batch_runs"),
    )


def downgrade() -> None:
    op.drop_table("batch_runs")
    op.drop_table("batch_jobs")
