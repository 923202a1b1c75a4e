"""DynamoDB Local itself: started by the session, tables created from template.yaml."""

from collections.abc import Callable

from mypy_boto3_dynamodb import DynamoDBClient


def test_template_tables_are_created_with_their_indexes(
    dynamodb: DynamoDBClient, template_table: Callable[[str], str]
) -> None:
    # Given the file tracker table of template.yaml / When created on DynamoDB Local
    name = template_table("FileTrackerTable")
    # Then it has the template's pending-files index
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert [index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])] == [
        "pending-files-index"
    ]
