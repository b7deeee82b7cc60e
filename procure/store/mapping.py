"""Conversions between table rows and domain objects (both ways), nothing else."""

from __future__ import annotations

from procure.domain.approval import ApprovalTask, TaskState
from procure.domain.events import Event
from procure.domain.order import (
    GoodsReceipt,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    ReceiptState,
)
from procure.domain.reference import (
    Category,
    CostCentre,
    Delegation,
    GLCode,
    Person,
    ReferenceData,
    Supplier,
    VatCode,
)
from procure.domain.requisition import ApprovalState, OrderState, Requisition, RequisitionLine
from procure.store import tables as t


# -- reference data ----------------------------------------------------------------------------
def reference_from_rows(
    people: list[t.PersonRow],
    cost_centres: list[t.CostCentreRow],
    gl_codes: list[t.GLCodeRow],
    vat_codes: list[t.VatCodeRow],
    suppliers: list[t.SupplierRow],
    categories: list[t.CategoryRow],
    delegations: list[t.DelegationRow],
) -> ReferenceData:
    return ReferenceData(
        people={
            r.id: Person(
                id=r.id,
                name=r.name,
                email=r.email,
                roles=frozenset(r.roles),
                approval_limit=r.approval_limit,
                line_manager_id=r.line_manager_id,
                department=r.department,
                active=r.active,
            )
            for r in people
        },
        cost_centres={
            r.code: CostCentre(
                code=r.code,
                name=r.name,
                budget_holder_id=r.budget_holder_id,
                head_of_service_id=r.head_of_service_id,
                director_id=r.director_id,
                annual_budget=r.annual_budget,
                site=r.site,
            )
            for r in cost_centres
        },
        gl_codes={r.code: GLCode(code=r.code, name=r.name) for r in gl_codes},
        vat_codes={
            r.code: VatCode(
                code=r.code, name=r.name, rate=r.rate, en16931_category=r.en16931_category
            )
            for r in vat_codes
        },
        suppliers={
            r.id: Supplier(
                id=r.id,
                name=r.name,
                vat_number=r.vat_number,
                address_lines=tuple(r.address_lines),
                postcode=r.postcode,
                country=r.country,
                sort_code=r.sort_code,
                account_number=r.account_number,
                iban=r.iban,
                finance_ref=r.finance_ref,
                active=r.active,
            )
            for r in suppliers
        },
        categories={
            r.code: Category(code=r.code, name=r.name, approver_role=r.approver_role)
            for r in categories
        },
        delegations=tuple(
            Delegation(
                approver_id=r.approver_id,
                delegate_id=r.delegate_id,
                starts=r.starts,
                ends=r.ends,
                reason=r.reason,
            )
            for r in delegations
        ),
    )


def reference_to_rows(ref: ReferenceData) -> list[object]:
    rows: list[object] = []
    rows += [
        t.PersonRow(
            id=p.id,
            name=p.name,
            email=p.email,
            roles=sorted(p.roles),
            approval_limit=p.approval_limit,
            line_manager_id=p.line_manager_id,
            department=p.department,
            active=p.active,
        )
        for p in ref.people.values()
    ]
    rows += [
        t.CostCentreRow(
            code=c.code,
            name=c.name,
            budget_holder_id=c.budget_holder_id,
            head_of_service_id=c.head_of_service_id,
            director_id=c.director_id,
            annual_budget=c.annual_budget,
            site=c.site,
        )
        for c in ref.cost_centres.values()
    ]
    rows += [t.GLCodeRow(code=g.code, name=g.name) for g in ref.gl_codes.values()]
    rows += [
        t.VatCodeRow(code=v.code, name=v.name, rate=v.rate, en16931_category=v.en16931_category)
        for v in ref.vat_codes.values()
    ]
    rows += [
        t.SupplierRow(
            id=s.id,
            name=s.name,
            vat_number=s.vat_number,
            address_lines=list(s.address_lines),
            postcode=s.postcode,
            country=s.country,
            sort_code=s.sort_code,
            account_number=s.account_number,
            iban=s.iban,
            finance_ref=s.finance_ref,
            active=s.active,
        )
        for s in ref.suppliers.values()
    ]
    rows += [
        t.CategoryRow(code=c.code, name=c.name, approver_role=c.approver_role)
        for c in ref.categories.values()
    ]
    rows += [
        t.DelegationRow(
            approver_id=d.approver_id,
            delegate_id=d.delegate_id,
            starts=d.starts,
            ends=d.ends,
            reason=d.reason,
        )
        for d in ref.delegations
    ]
    return rows


# -- requisitions ------------------------------------------------------------------------------
def requisition_from_rows(row: t.RequisitionRow, lines: list[t.RequisitionLineRow]) -> Requisition:
    return Requisition(
        id=row.id,
        number=row.number,
        requester_id=row.requester_id,
        cost_centre=row.cost_centre,
        supplier_id=row.supplier_id,
        suggested_supplier=row.suggested_supplier,
        need_by=row.need_by,
        justification=row.justification,
        lines=tuple(
            RequisitionLine(
                line_no=ln.line_no,
                description=ln.description,
                quantity=ln.quantity,
                unit_code=ln.unit_code,
                unit_price=ln.unit_price,
                vat_code=ln.vat_code,
                gl_code=ln.gl_code,
                category=ln.category,
                receipt_required=ln.receipt_required,
            )
            for ln in sorted(lines, key=lambda x: x.line_no)
        ),
        submitted_at=row.submitted_at,
        quotes_attached=row.quotes_attached,
        version=row.version,
        approval_state=ApprovalState(row.approval_state),
        order_state=OrderState(row.order_state),
        current_step=row.current_step,
        purchase_order_number=row.purchase_order_number,
    )


def requisition_row_values(req: Requisition) -> dict[str, object]:
    return {
        "id": req.id,
        "number": req.number,
        "requester_id": req.requester_id,
        "cost_centre": req.cost_centre,
        "supplier_id": req.supplier_id,
        "suggested_supplier": req.suggested_supplier,
        "need_by": req.need_by,
        "justification": req.justification,
        "quotes_attached": req.quotes_attached,
        "version": req.version,
        "approval_state": req.approval_state.value,
        "order_state": req.order_state.value,
        "current_step": req.current_step,
        "purchase_order_number": req.purchase_order_number,
        "net_total": req.net_total,
        "submitted_at": req.submitted_at,
    }


def requisition_line_values(req: Requisition) -> list[dict[str, object]]:
    return [
        {
            "requisition_id": req.id,
            "line_no": ln.line_no,
            "description": ln.description,
            "quantity": ln.quantity,
            "unit_code": ln.unit_code,
            "unit_price": ln.unit_price,
            "vat_code": ln.vat_code,
            "gl_code": ln.gl_code,
            "category": ln.category,
            "receipt_required": ln.receipt_required,
        }
        for ln in req.lines
    ]


# -- tasks -----------------------------------------------------------------------------------
def task_from_row(r: t.ApprovalTaskRow) -> ApprovalTask:
    return ApprovalTask(
        id=r.id,
        requisition_id=r.requisition_id,
        requisition_version=r.requisition_version,
        step_no=r.step_no,
        assignee_id=r.assignee_id,
        role=r.role,
        reason=r.reason,
        created_at=r.created_at,
        required_limit=r.required_limit,
        state=TaskState(r.state),
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        comment=r.comment,
        delegated_from=r.delegated_from,
        escalated_from=r.escalated_from,
    )


def task_values(task: ApprovalTask) -> dict[str, object]:
    return {
        "id": task.id,
        "requisition_id": task.requisition_id,
        "requisition_version": task.requisition_version,
        "step_no": task.step_no,
        "assignee_id": task.assignee_id,
        "role": task.role,
        "reason": task.reason,
        "required_limit": task.required_limit,
        "state": task.state.value,
        "created_at": task.created_at,
        "decided_by": task.decided_by,
        "decided_at": task.decided_at,
        "comment": task.comment,
        "delegated_from": task.delegated_from,
        "escalated_from": task.escalated_from,
    }


# -- orders ------------------------------------------------------------------------------------
def order_from_rows(row: t.PurchaseOrderRow, lines: list[t.PurchaseOrderLineRow]) -> PurchaseOrder:
    return PurchaseOrder(
        id=row.id,
        number=row.number,
        requisition_id=row.requisition_id,
        requisition_number=row.requisition_number,
        supplier_id=row.supplier_id,
        requester_id=row.requester_id,
        cost_centre=row.cost_centre,
        need_by=row.need_by,
        issued_at=row.issued_at,
        status=OrderStatus(row.status),
        receipt_state=ReceiptState(row.receipt_state),
        lines=[
            PurchaseOrderLine(
                line_no=ln.line_no,
                description=ln.description,
                quantity=ln.quantity,
                unit_code=ln.unit_code,
                unit_price=ln.unit_price,
                vat_code=ln.vat_code,
                gl_code=ln.gl_code,
                category=ln.category,
                receipt_required=ln.receipt_required,
                received_quantity=ln.received_quantity,
            )
            for ln in sorted(lines, key=lambda x: x.line_no)
        ],
    )


def order_rows(po: PurchaseOrder) -> tuple[t.PurchaseOrderRow, list[t.PurchaseOrderLineRow]]:
    row = t.PurchaseOrderRow(
        id=po.id,
        number=po.number,
        requisition_id=po.requisition_id,
        requisition_number=po.requisition_number,
        supplier_id=po.supplier_id,
        requester_id=po.requester_id,
        cost_centre=po.cost_centre,
        need_by=po.need_by,
        issued_at=po.issued_at,
        status=po.status.value,
        receipt_state=po.receipt_state.value,
        net_total=po.net_total,
    )
    lines = [
        t.PurchaseOrderLineRow(
            purchase_order_id=po.id,
            line_no=ln.line_no,
            description=ln.description,
            quantity=ln.quantity,
            unit_code=ln.unit_code,
            unit_price=ln.unit_price,
            vat_code=ln.vat_code,
            gl_code=ln.gl_code,
            category=ln.category,
            receipt_required=ln.receipt_required,
            received_quantity=ln.received_quantity,
        )
        for ln in po.lines
    ]
    return row, lines


def receipt_rows(
    receipt: GoodsReceipt,
) -> tuple[t.GoodsReceiptRow, list[t.GoodsReceiptLineRow]]:
    return (
        t.GoodsReceiptRow(
            id=receipt.id,
            number=receipt.number,
            purchase_order_id=receipt.purchase_order_id,
            received_on=receipt.received_on,
            recorded_at=receipt.recorded_at,
            recorded_by=receipt.recorded_by,
            note=receipt.note,
            is_return=receipt.is_return,
        ),
        [
            t.GoodsReceiptLineRow(
                goods_receipt_id=receipt.id, po_line_no=ln.po_line_no, quantity=ln.quantity
            )
            for ln in receipt.lines
        ],
    )


def event_values(e: Event) -> dict[str, object]:
    return {
        "occurred_at": e.occurred_at,
        "entity_type": e.entity_type,
        "entity_id": e.entity_id,
        "event_name": e.name,
        "actor_id": e.actor_id,
        "before": e.before,
        "after": e.after,
        "data": e.data,
    }
