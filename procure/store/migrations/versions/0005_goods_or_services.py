"""goods or services: a requisition line may say whether it needs a goods receipt, and each
purchase order line carries it (matching reads it: 3-way for goods, 2-way for services)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 00:55:00

Existing order lines are filled in as matching inferred them until now: every line ordered in a
service unit (hours, days, weeks, months, years, minutes, E48, lump sum) is a service, any other
line goods. Existing requisition lines keep NULL: "inferred from the unit".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# As procure.domain.requisition.SERVICE_UNIT_CODES on the day of this migration (copied, so that
# the migration keeps doing what it did if that list changes later).
SERVICE_UNITS = ("HUR", "DAY", "WEE", "MON", "ANN", "MIN", "E48", "LS")


def upgrade() -> None:
    with op.batch_alter_table("requisition_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_required", sa.Boolean(), nullable=True))
    with op.batch_alter_table("purchase_order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_required", sa.Boolean(), nullable=True))
    line = sa.table(
        "purchase_order_line",
        sa.column("unit_code", sa.String()),
        sa.column("receipt_required", sa.Boolean()),
    )
    op.execute(line.update().values(receipt_required=True))
    op.execute(
        line.update().where(line.c.unit_code.in_(SERVICE_UNITS)).values(receipt_required=False)
    )
    with op.batch_alter_table("purchase_order_line", schema=None) as batch_op:
        batch_op.alter_column("receipt_required", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("purchase_order_line", schema=None) as batch_op:
        batch_op.drop_column("receipt_required")
    with op.batch_alter_table("requisition_line", schema=None) as batch_op:
        batch_op.drop_column("receipt_required")
