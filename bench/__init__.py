"""Benchmarks of cpa-bridge (issue 9): run with `.venv/bin/python bench/run.py`."""
