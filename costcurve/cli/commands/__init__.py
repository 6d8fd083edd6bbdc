"""CLI command groups; every module here defines ``register(app: typer.Typer)``."""
