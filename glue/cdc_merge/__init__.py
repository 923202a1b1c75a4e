"""cdc_merge: the Glue 5 job that applies DMS full-load and CDC files to Iceberg tables.

Runs on Python 3.11 with only what the Glue runtime ships (boto3, pyspark): no pydantic and no
datalake_shared; of the shared layer's folder it imports only datalake_contracts (the
TableConfig and file-tracker item contracts, standard library only). `make glue-bundle` bundles
both packages into one committed script, glue/cdc_merge_job.py (the packages zipped inside, see
scripts/bundle_glue_job.py): the job's ScriptLocation, which `sam deploy` uploads.
"""
