"""cdc_merge: the Glue 5 job that applies DMS full-load and CDC files to Iceberg tables.

Runs on Python 3.11 with only what the Glue runtime ships (boto3, pyspark): no pydantic, no
shared-layer imports. ``main.py`` is the job's ScriptLocation; the package itself reaches the job
as a zip in ``--extra-py-files`` (glue/build_extra_py_files.py builds it).
"""
