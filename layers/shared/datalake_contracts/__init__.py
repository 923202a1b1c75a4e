"""datalake_contracts: the data contracts the Lambda functions and the Glue job share, defined once.

``table_config``: what a TableConfig may say (field names, choices, name and type rules, limits)
and how the TableConfig table stores it. ``file_tracker_item``: the FileTrackerTable item
layout (attribute names, statuses, the sparse pending-files index and its sort key).

Standard library only and Python 3.11 (Glue 5's): it ships in the shared layer (it sits in
layers/shared) and, zipped next to cdc_merge, inside the Glue job's bundle
(scripts/bundle_glue_job.py).
"""
