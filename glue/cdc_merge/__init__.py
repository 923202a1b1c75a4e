"""cdc_merge: the Glue 5 job that applies DMS full-load and CDC files to Iceberg tables.

Runs on Python 3.11 with only what the Glue runtime ships (boto3, pyspark): no pydantic, no
shared-layer imports. `make glue-bundle` bundles the package into one committed script,
glue/cdc_merge_job.py (the package zipped inside, see scripts/bundle_glue_job.py): the job's
ScriptLocation, which `sam deploy` uploads.
"""
