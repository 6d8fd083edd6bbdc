-- Prefect keeps its own database: both it and costcurve use an alembic_version table.
CREATE DATABASE prefect OWNER costcurve;
