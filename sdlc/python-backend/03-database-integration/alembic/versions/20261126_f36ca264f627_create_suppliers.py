"""create suppliers

Revision ID: f36ca264f627
Revises: d956659e5bd5
Create Date: 2026-11-26 00:00:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f36ca264f627"
down_revision: str | Sequence[str] | None = "d956659e5bd5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("contact_email", sa.String(length=255), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("min_order_value", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("is_preferred", sa.Boolean(), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=True),
        sa.Column("last_audit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erp_id", sa.Uuid(), nullable=True),
        sa.Column("terms", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("rating", sa.Double(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("erp_id", name=op.f("uq_suppliers_erp_id")),
        sa.UniqueConstraint("name", name=op.f("uq_suppliers_name")),
    )


def downgrade() -> None:
    op.drop_table("suppliers")
