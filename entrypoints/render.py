"""Human-readable rendering of the read models for the terminal."""

from __future__ import annotations

from typing import Any


def requisition(view: dict[str, Any]) -> str:
    out = [
        f"{view['number']}  (version {view['version']})",
        f"  requester    {view['requester_name']}",
        f"  cost centre  {view['cost_centre']}    supplier {view['supplier'] or view['suggested_supplier']}",
        f"  need by      {view['need_by']}",
        f"  state        approval: {view['approval_state']}   order: {view['order_state']}",
        f"  totals       net £{view['net_total']}  VAT £{view['vat_total']}  gross £{view['gross_total']}",
    ]
    for ln in view["lines"]:
        out.append(
            f"    {ln['line_no']:>3}. {ln['description'][:40]:<40} {ln['quantity']:>8} {ln['unit_code']}"
            f" x £{ln['unit_price']} = £{ln['net']}  [{ln['vat_code']}/{ln['gl_code']}/{ln['category']}]"
            f" {_goods_or_services(ln)}"
        )
    route = view.get("route")
    if route and route.get("steps"):
        out.append(f"  route        band '{route['band']}' on £{route['band_amount']}")
        if route.get("aggregated_with"):
            out.append(
                f"               (anti-splitting: added {', '.join(route['aggregated_with'])})"
            )
        for s in route["steps"]:
            out.append(f"    step {s['step_no']}: {s['approver']} ({s['role']}) — {s['reason']}")
        for n in route.get("notes", []):
            out.append(f"    note: {n}")
    if view.get("waiting_on"):
        w = view["waiting_on"]
        out.append(
            f"  waiting on   {w['assignee_name']} since {w['since']}; escalates on {w['escalates_on']}"
        )
    if view.get("purchase_order"):
        po = view["purchase_order"]
        out.append(f"  order        {po['number']} ({po['receipt_state']})")
    out.append("  timeline")
    for e in view["timeline"]:
        out.append(f"    {e['at']}  {e['summary']}")
    return "\n".join(out)


def _goods_or_services(line: dict[str, Any]) -> str:
    return "goods" if line.get("receipt_required", True) else "services"


def inbox(tasks: list[dict[str, Any]]) -> str:
    if not tasks:
        return "No open approval tasks."
    out = [f"{len(tasks)} open task(s):"]
    for x in tasks:
        flag = "  OVERDUE" if x["overdue"] else ""
        out.append(
            f"  {x['task_id']}  {x['requisition']}  £{x['net_total']:>12}  from {x['requester_name']}"
            f"  step {x['step_no']} ({x['role']}), escalates {x['escalates_on']}{flag}\n"
            f"      why you: {x['reason']}"
        )
    return "\n".join(out)


def requisitions(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No requisitions."
    out = []
    for r in rows:
        waiting = f"  waiting on {r['waiting_on']}" if r["waiting_on"] else ""
        po = f"  {r['purchase_order']}" if r["purchase_order"] else ""
        out.append(f"{r['number']}  £{r['net_total']:>12}  {r['approval_state']:<17}{po}{waiting}")
    return "\n".join(out)


def order(view: dict[str, Any]) -> str:
    out = [
        f"{view['number']}  for {view['requisition']}  to {view['supplier_name']} ({view['supplier']})",
        f"  status {view['status']}, {view['receipt_state']}; net £{view['net_total']}; need by {view['need_by']}",
    ]
    for ln in view["lines"]:
        out.append(
            f"    {ln['line_no']:>3}. {ln['description'][:40]:<40} ordered {ln['quantity']:>8}"
            f" {ln['unit_code']:<3} {_goods_or_services(ln)}, {ln['matching']}"
            f"  received {ln['received_quantity']:>8}  outstanding {ln['outstanding']}"
            + (f"  billed {ln['billed_quantity']}" if "billed_quantity" in ln else "")
        )
    for r in view["receipts"]:
        kind = "return" if r["is_return"] else "receipt"
        lines = ", ".join(f"line {x['po_line']}: {x['quantity']}" for x in r["lines"])
        out.append(f"  {kind} {r['number']} on {r['received_on']} by {r['recorded_by']}: {lines}")
    return "\n".join(out)


def invoice(body: dict[str, Any]) -> str:
    verdict = "ACCEPTED" if body.get("accepted") else "REJECTED"
    if body.get("number") is None and not body.get("lines"):
        return f"{verdict}: not a readable invoice"
    seller, buyer, t = body["seller"], body["buyer"], body["totals"]
    kind = "credit note" if body["kind"] == "credit_note" else "invoice"
    out = [
        f"{verdict} {kind} {body['number']} ({body['syntax']}, type {body['type_code']})",
        f"  issued {body['issue_date']}  due {body['due_date']}  currency {body['currency']}",
        f"  seller {seller['name']}  VAT {seller['vat_id']}",
        f"  buyer  {buyer['name']}  reference {body['buyer_reference']}  order {body['order_reference']}",
    ]
    for ln in body["lines"]:
        out.append(
            f"    {ln['id']:>4}. {str(ln['item_name'])[:40]:<40} {ln['quantity']} {ln['unit_code']}"
            f" x {ln['unit_price']} = {ln['net_amount']}  VAT {ln['vat_category']} {ln['vat_rate']}"
        )
    for v in body["vat_breakdown"]:
        out.append(f"  VAT {v['category']} {v['rate']}%: {v['taxable_amount']} → {v['tax_amount']}")
    out.append(
        f"  net {t['line_net']}  excl. VAT {t['tax_exclusive']}  VAT {t['tax']}"
        f"  incl. VAT {t['tax_inclusive']}  payable {t['payable']}"
    )
    warnings = [f for f in body["findings"] if f["severity"] != "fatal"]
    for f in warnings:
        out.append(f"  {f['severity']} [{f['rule']}]: {f['message']}")
    return "\n".join(out)


def quarantine(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "Quarantine is empty."
    out = [f"{len(rows)} rejected document(s):"]
    for r in rows:
        out.append(f"  {r['id']}  {r['filename']}  received {r['received_at']}")
        out.extend(f"      {reason}" for reason in r["reasons"][:5])
    return "\n".join(out)
