"""The Glue job (glue/cdc_merge) run locally: ``job`` is the runner the local runtime calls;
the job's SqlEngine on DuckDB (``duckdb_engine``) or on Spark + Iceberg through a worker process
(``spark_engine``, the client of the ``spark_worker`` script)."""
