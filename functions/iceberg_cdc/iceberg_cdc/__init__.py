"""CDC to Iceberg: a DynamoDB stream batch becomes one typed Athena MERGE."""
