"""Prefect flows: thin wiring of fetch -> parse -> persist tasks."""
