"""Benchmarks run by ``procure bench ...``; each prints one JSON object per figure."""
