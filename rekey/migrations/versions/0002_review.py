"""review station: users, and the rules with findings on each case

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(80), primary_key=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("finding_rules", sa.Text(), nullable=True))
    op.create_index(
        "ix_cases_queue", "cases", ["state", "created_at", "id", "doc_type", "finding_rules"]
    )
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("data", sa.JSON))
    connection = op.get_bind()
    for case_id, data in connection.execute(sa.select(cases.c.id, cases.c.data)).all():
        data = json.loads(data) if isinstance(data, str) else data
        rules = sorted({f["rule"] for f in data.get("findings", [])})
        connection.execute(
            sa.text("UPDATE cases SET finding_rules = :rules WHERE id = :id"),
            {"rules": " " + " ".join(rules) + " ", "id": case_id},
        )


def downgrade() -> None:
    op.drop_index("ix_cases_queue", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("finding_rules")
    op.drop_table("users")
