"""The FastAPI service (v1)."""
