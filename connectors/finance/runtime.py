"""Build the receiver from finance settings (adapters chosen by name, independent of each other)."""

from __future__ import annotations

from connectors.finance.export import ExportAdapter
from connectors.finance.ledger import ReferenceLedger
from connectors.finance.receiver import Adapter, Receiver
from connectors.finance.settings import FinanceSettings
from connectors.finance.store import FinanceStore


def build_receiver(settings: FinanceSettings, store: FinanceStore | None = None) -> Receiver:
    store = store or FinanceStore.from_url(settings.database_url)
    store.create()
    adapters: list[Adapter] = []
    for name in settings.adapters:
        if name == "ledger":
            adapters.append(ReferenceLedger())
        elif name == "export":
            adapters.append(ExportAdapter(settings.export_dir))
        else:
            raise ValueError(f"PROCURE_FINANCE_ADAPTERS: unknown adapter {name!r} (ledger, export)")
    return Receiver(store, adapters, currencies=frozenset(settings.currencies))
