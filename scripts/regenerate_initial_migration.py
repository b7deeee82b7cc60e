"""Developer tool (before the first release only): rebuild migration 0001 from tables.py.

Once a release has shipped, add new revisions with ``procure.store.migrate.autogenerate`` instead.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from procure.store.database import make_engine
from procure.store.migrate import autogenerate

VERSIONS = Path(__file__).resolve().parents[1] / "procure" / "store" / "migrations" / "versions"

TRIGGERS = """
    # The audit trail is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )
"""

DROP_TRIGGERS = """    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
"""


def main() -> None:
    for old in VERSIONS.glob("*.py"):
        if old.name != "__init__.py":
            old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/gen.db")
        autogenerate(engine, "initial schema")
        engine.dispose()
    [generated] = [p for p in VERSIONS.glob("*.py") if p.name != "__init__.py"]
    text = generated.read_text()
    old_rev = re.search(r"^revision = '(\w+)'", text, re.M)
    assert old_rev
    text = text.replace(old_rev.group(0), "revision = '0001'")
    text = text.replace(f"Revision ID: {old_rev.group(1)}", "Revision ID: 0001")
    text = text.replace(
        "import sqlmodel\n", "import sqlmodel  # noqa: F401\n\nimport procure.store.types\n"
    )
    text = text.replace(
        "    # ### end Alembic commands ###\n\n\ndef downgrade",
        TRIGGERS.rstrip() + "\n    # ### end Alembic commands ###\n\n\ndef downgrade",
        1,
    )
    text = text.replace(
        "def downgrade() -> None:\n", "def downgrade() -> None:\n" + DROP_TRIGGERS, 1
    )
    generated.unlink()
    target = VERSIONS / "0001_initial_schema.py"
    target.write_text(text)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
