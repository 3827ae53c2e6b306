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
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("min_order_value", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("is_preferred", sa.Boolean(), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=True),
        sa.Column("last_audit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erp_id", sa.Uuid(), nullable=True),
        sa.Column("terms", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("rating", sa.Double(), nullable=True),
        sa.Column("annual_volume", sa.BigInteger(), nullable=True),
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
    op.create_index(
        op.f("ix_suppliers_annual_volume"), "suppliers", ["annual_volume"], unique=False
    )
    op.create_index(
        op.f("ix_suppliers_contract_start"), "suppliers", ["contract_start"], unique=False
    )
    op.create_index("ix_suppliers_created_at_id", "suppliers", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_suppliers_is_preferred"), "suppliers", ["is_preferred"], unique=False)
    op.create_index(
        op.f("ix_suppliers_last_audit_at"), "suppliers", ["last_audit_at"], unique=False
    )
    # products.supplier_id (product:ref(supplier)) needs the suppliers table first.
    op.add_column("products", sa.Column("supplier_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_products_supplier_id_suppliers"),
        "products",
        "suppliers",
        ["supplier_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_products_supplier_id"), "products", ["supplier_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_products_supplier_id"), table_name="products")
    op.drop_constraint(op.f("fk_products_supplier_id_suppliers"), "products", type_="foreignkey")
    op.drop_column("products", "supplier_id")
    op.drop_index(op.f("ix_suppliers_last_audit_at"), table_name="suppliers")
    op.drop_index(op.f("ix_suppliers_is_preferred"), table_name="suppliers")
    op.drop_index("ix_suppliers_created_at_id", table_name="suppliers")
    op.drop_index(op.f("ix_suppliers_contract_start"), table_name="suppliers")
    op.drop_index(op.f("ix_suppliers_annual_volume"), table_name="suppliers")
    op.drop_table("suppliers")
