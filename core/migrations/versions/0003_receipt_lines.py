"""receipt_lines: each receipt as an expense line (kind, amount read and confirmed, date, merchant, trip);
receipts.original_key / original_type: the file as sent when a converted copy is stored

Existing receipts get their line from their reading (proposed, or pending when not read yet).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(sa.Column("original_key", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("original_type", sa.String(length=40), nullable=True))
    op.create_table(
        "receipt_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=True),
        sa.Column("kind_read", sa.String(length=12), nullable=True),
        sa.Column("kind_confidence", sa.Float(), nullable=True),
        sa.Column("amount_read", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("amount_confirmed", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("spent_on", sa.Date(), nullable=True),
        sa.Column("spent_at", sa.Time(), nullable=True),
        sa.Column("merchant", sa.String(length=200), nullable=True),
        sa.Column("from_city", sa.String(length=120), nullable=True),
        sa.Column("to_city", sa.String(length=120), nullable=True),
        sa.Column("travel_date", sa.Date(), nullable=True),
        sa.Column("nights", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipts.id"], name=op.f("fk_receipt_lines_receipt_id_receipts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_lines")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_receipt_lines_receipt_id")),
    )
    op.execute(
        "INSERT INTO receipt_lines (receipt_id, state, amount_read, spent_on, updated_at) "
        "SELECT id, CASE WHEN ocr_status = 'pending' THEN 'pending' ELSE 'proposed' END, ocr_total, ocr_date, "
        "COALESCE(ocr_at, created_at) FROM receipts"
    )


def downgrade() -> None:
    op.drop_table("receipt_lines")
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("original_type")
        batch.drop_column("original_key")
