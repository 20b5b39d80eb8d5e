"""The store's first schema: predictions, their rows, and feedback on them.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("prediction_id", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("workspace", sa.Text(), nullable=False),
        sa.Column("conversation", sa.Text(), nullable=False),
        sa.Column("thread", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("prediction_id", name="pk_predictions"),
    )
    op.create_index("ix_predictions_sender_at", "predictions", ["sender", "at"])
    op.create_index("ix_predictions_at", "predictions", ["at"])
    op.create_index("ix_predictions_model_at", "predictions", ["model", "at"])
    op.create_table(
        "prediction_rows",
        sa.Column("prediction_id", sa.Text(), nullable=False),
        sa.Column("row_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("prediction", sa.Text()),
        sa.Column("value", sa.Double()),
        sa.Column("probabilities", sa.JSON(), nullable=False),
        sa.Column("drivers", sa.JSON(), nullable=False),
        sa.Column("base_value", sa.Double()),
        sa.Column("drivers_for", sa.Text()),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.ForeignKeyConstraint(["prediction_id"], ["predictions.prediction_id"], ondelete="CASCADE",
                                name="fk_prediction_rows_prediction_id_predictions"),
        sa.PrimaryKeyConstraint("prediction_id", "row_index", name="pk_prediction_rows"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prediction_id", sa.Text(), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("actual", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["prediction_id", "row_index"],
                                ["prediction_rows.prediction_id", "prediction_rows.row_index"], ondelete="CASCADE",
                                name="fk_feedback_prediction_id_row_index_prediction_rows"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_prediction_id_row_index", "feedback", ["prediction_id", "row_index"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("prediction_rows")
    op.drop_table("predictions")
