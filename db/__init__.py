"""Schema, versioned ingest and queries over PostgreSQL."""
