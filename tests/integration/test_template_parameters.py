"""Template parameters change the wiring the local runtime deploys."""

from dev.runtime import project_runtime
from tests.integration.conftest import tracker_items


def test_staging_prefix_limits_what_the_rule_routes() -> None:
    # Given the stack deployed with StagingPrefix=cdc/
    with project_runtime(parameters={"StagingPrefix": "cdc/"}) as runtime:
        bucket = runtime.outputs["StagingBucketName"]

        # When one object lands under the prefix and one outside it
        runtime.s3.put_object(Bucket=bucket, Key="cdc/sales/orders/LOAD00000001.csv", Body=b"1\n")
        runtime.s3.put_object(Bucket=bucket, Key="exports/sales/orders/x.csv", Body=b"1\n")
        runtime.settle()

        # Then only the first is routed and tracked, with the prefix stripped for the layout
        assert sum(runtime.activity.routes().values()) == 1
        [item] = tracker_items(runtime)
        assert (item["source_table"], item["key"]) == (
            "sales.orders",
            "cdc/sales/orders/LOAD00000001.csv",
        )


def test_custom_key_pattern_maps_keys_to_tables() -> None:
    # Given a layout where DMS writes under dms/<database>/<schema>/<table>/
    pattern = r"^dms/[^/]+/(?P<schema>[^/]+)/(?P<table>[^/]+)/(?P<file_name>[^/]+)$"
    with project_runtime(parameters={"StagingKeyPattern": pattern}) as runtime:
        bucket = runtime.outputs["StagingBucketName"]

        # When a file lands in that layout
        key = "dms/erp/finance/invoices/20261123-101500123.csv"
        runtime.s3.put_object(Bucket=bucket, Key=key, Body=b"I,1\n")
        runtime.settle()

        # Then the pattern's groups decide schema and table
        [item] = tracker_items(runtime)
        assert (item["schema_name"], item["table_name"]) == ("finance", "invoices")
