"""Entry points: the ``procure`` CLI (typer) and the HTTP API (FastAPI). They call the
composition root in ``workers.bootstrap`` and the services in ``procure.services``."""
