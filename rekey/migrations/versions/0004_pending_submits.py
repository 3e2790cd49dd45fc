"""pending submits: a keying the ledger saw start and never saw confirmed or refused

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_submits",
        sa.Column("backoffice", sa.String(200), primary_key=True),
        sa.Column("external_reference", sa.String(64), primary_key=True),
        sa.Column("doc_type", sa.String(40)),
        sa.Column("case_id", sa.String(32)),
        sa.Column("screen", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_submits")
