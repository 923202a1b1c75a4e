"""The file tracker: every DMS file landing in S3 becomes one item in the tracker table."""
