"""Pipeline metrics: CodePipeline state changes become partitioned CSVs for Athena."""
