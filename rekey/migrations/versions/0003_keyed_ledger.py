"""keying ledger: the cases rekey keyed, by back office and external reference

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "keyed_cases",
        sa.Column("backoffice", sa.String(200), primary_key=True),
        sa.Column("external_reference", sa.String(64), primary_key=True),
        sa.Column("doc_type", sa.String(40)),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(32)),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("keyed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("keyed_cases")
