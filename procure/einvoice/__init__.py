"""Supplier invoices and credit notes: one canonical EN 16931 model and its syntaxes.

Modules: ``model`` (the canonical document, pydantic, frozen), ``xml_safety`` (hardened lxml
loading), ``ubl`` / ``cii`` / ``xlsx`` (one parser per syntax, each mapping onto the model),
``rules`` (the EN 16931 business rules with their official ids), ``validate`` (runs them).

Imports: pydantic, lxml, python-calamine/openpyxl and ``procure.domain``; never the store,
workers, connectors or entry points.
"""
