"""An index for a conversation's last prediction, which a follow-up (`whatif: income=80000`) is built on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_predictions_conversation_thread_at", "predictions", ["conversation", "thread", "at"])


def downgrade() -> None:
    op.drop_index("ix_predictions_conversation_thread_at", "predictions")
