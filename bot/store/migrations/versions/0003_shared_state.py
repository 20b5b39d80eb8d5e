"""What replicas decide together: claims on deliveries, rate slots, and Slack payloads still owed an answer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-17
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("until", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_claims"),
    )
    op.create_index("ix_claims_until", "claims", ["until"])
    op.create_table(
        "rate_slots",
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("until", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "slot", name="pk_rate_slots"),
    )
    op.create_index("ix_rate_slots_until", "rate_slots", ["until"])
    op.create_table(
        "pending",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("lease_until", sa.Double(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_pending"),
    )
    op.create_index("ix_pending_lease_until", "pending", ["lease_until"])
    op.create_index("ix_pending_owner", "pending", ["owner"])


def downgrade() -> None:
    op.drop_table("pending")
    op.drop_table("rate_slots")
    op.drop_table("claims")
