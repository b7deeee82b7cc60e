"""Migration 0005 fills in goods or services on the order lines already in the database, as
matching inferred it until then (service units: services; anything else: goods), and leaves the
requisition lines to say "from the unit" (NULL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text

from procure.store import migrate
from procure.store.database import make_engine

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_existing_order_lines_are_goods_unless_ordered_in_a_service_unit(database_url: str):
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0004")
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO requisition (id, number, requester_id, cost_centre, need_by,"
                    " justification, quotes_attached, version, approval_state, order_state,"
                    " current_step, net_total, submitted_at, updated_at)"
                    " VALUES ('r1', 'REQ-1', 's.jones', 'CC-FAC', :d, 'why', 0, 1, 'approved',"
                    " 'ordered', 1, 100, :t, :t)"
                ),
                {"d": date(2026, 12, 1), "t": NOW},
            )
            c.execute(
                text(
                    "INSERT INTO purchase_order (id, number, requisition_id, requisition_number,"
                    " supplier_id, requester_id, cost_centre, need_by, issued_at, status,"
                    " receipt_state, net_total) VALUES ('p1', 'PO-1', 'r1', 'REQ-1', 'SUP-0004',"
                    " 's.jones', 'CC-FAC', :d, :t, 'issued', 'not_received', 100)"
                ),
                {"d": date(2026, 12, 1), "t": NOW},
            )
            for no, unit in enumerate(["XBX", "DAY", "HUR", "C62", "LS"], start=1):
                params = {"no": no, "unit": unit}
                c.execute(
                    text(
                        "INSERT INTO requisition_line (requisition_id, line_no, description,"
                        " quantity, unit_code, unit_price, vat_code, gl_code, category)"
                        " VALUES ('r1', :no, 'x', 1, :unit, 20, 'S', '4410', 'PROFESSIONAL')"
                    ),
                    params,
                )
                c.execute(
                    text(
                        "INSERT INTO purchase_order_line (purchase_order_id, line_no, description,"
                        " quantity, unit_code, unit_price, vat_code, gl_code, category,"
                        " received_quantity) VALUES ('p1', :no, 'x', 1, :unit, 20, 'S', '4410',"
                        " 'PROFESSIONAL', 0)"
                    ),
                    params,
                )

        migrate.upgrade(engine)

        with engine.connect() as c:
            po_lines = c.execute(
                text("SELECT unit_code, receipt_required FROM purchase_order_line ORDER BY line_no")
            ).all()
            req_lines = c.execute(text("SELECT receipt_required FROM requisition_line")).all()
        assert [(u, bool(r)) for u, r in po_lines] == [
            ("XBX", True), ("DAY", False), ("HUR", False), ("C62", True), ("LS", False),
        ]  # fmt: skip
        assert [r for (r,) in req_lines] == [None] * 5

        migrate.downgrade(engine, "0004")
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM purchase_order_line")).scalar() == 5
    finally:
        engine.dispose()
