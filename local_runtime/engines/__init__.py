"""Local engines standing in for AWS query services (athena: Athena on DuckDB)."""
