"""The catalog type fixer: Glue tables crawled from DynamoDB get array<T> where the crawler wrote
set<T>, a type Hive, Athena and Firehose's Parquet conversion cannot read."""
