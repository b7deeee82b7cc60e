"""Terminal rendering of matching: an invoice's decision line by line, and the exception queue."""

from __future__ import annotations

from typing import Any


def _figures(figures: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items())


def invoice(view: dict[str, Any]) -> str:
    """``procure invoice show``: what intake saw, then how matching decided and why."""
    out = [
        f"{view.get('kind') or 'document'} {view['number']} from {view['supplier_id']}"
        f"  ({view['status']}, received {view['received_at']})",
        f"  issued {view['issue_date']}  payable {view['currency']} {view['payable']}"
        f"  order reference {view['order_reference']}",
    ]
    if view.get("duplicate_of"):
        out.append(f"  duplicate of {view['duplicate_of']}")
    fatal = [f for f in view.get("findings", []) if f["severity"] == "fatal"]
    out.extend(f"  fatal [{f['rule']}]: {f['message']}" for f in fatal[:10])
    m = view.get("matching")
    if m:
        out.extend(matching(m))
    out.append("  timeline")
    out.extend(f"    {e['at']}  {e['event']}" for e in view.get("timeline", []))
    return "\n".join(out)


def matching(m: dict[str, Any]) -> list[str]:
    how = f" ({m['how']})" if m.get("how") else ""
    out = [f"  matching     {m['state'].replace('_', ' ')}{how}, decision {m['version']}"]
    decision = m.get("decision")
    if not decision:
        return out
    pos = ", ".join(decision["po_numbers"]) or "no order found"
    out.append(f"  outcome      {decision['outcome'].replace('_', ' ')} on {pos}")
    by_line: dict[str | None, list[dict[str, Any]]] = {}
    for r in decision["reasons"]:
        by_line.setdefault(r["invoice_line_id"], []).append(r)
    for r in by_line.get(None, []):
        out.append(f"    [{r['code']}] ({r['action']}) {r['message']}")
        if r["figures"]:
            out.append(f"        {_figures(r['figures'])}")
    for ln in decision["lines"]:
        where = (
            f"PO {ln['po_number']} line {ln['po_line_no']}" if ln["po_line_no"] else "no PO line"
        )
        out.append(f"    line {ln['invoice_line_id']}: {ln['outcome'].replace('_', ' ')} → {where}")
        if ln["figures"]:
            out.append(f"        {_figures(ln['figures'])}")
        for r in by_line.get(ln["invoice_line_id"], []):
            out.append(f"      [{r['code']}] ({r['action']}) {r['message']}")
            if r["figures"]:
                out.append(f"          {_figures(r['figures'])}")
    for x in m.get("exceptions", []):
        done = (
            f"{x['resolution']} by {x['resolved_by']}: {x['resolution_reason']}"
            if x["state"] == "resolved"
            else "open"
        )
        out.append(f"  exception    {x['id']} [{', '.join(x['reasons'])}] {done}")
    for r in m.get("ledger", []):
        rev = f" reverses {r['reverses']}" if r["reverses"] else ""
        drawn = ", ".join(f"{d['receipt']} {d['quantity']}" for d in r["receipts"])
        out.append(
            f"  ledger       line {r['invoice_line_id']} → {r['po_number']}/{r['po_line_no']}"
            f"  qty {r['quantity']}  £{r['amount']}  price variance {r['price_variance']}"
            f"{rev}{'  from ' + drawn if drawn else ''}"
        )
    return out


def exceptions(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No matching exceptions."
    out = [f"{len(rows)} exception(s):"]
    for x in rows:
        state = x["state"] if x["state"] == "open" else f"{x['state']} ({x['resolution']})"
        out.append(
            f"  {x['id']}  {x['invoice_number']} from {x['supplier_id']}"
            f"  {x['currency']} {x['payable']}  [{', '.join(x['reasons'])}]  {state}"
            f"  since {x['created_at']}\n      {x['summary'][:300]}"
        )
    return "\n".join(out)
