from iceberg_cdc_fakes import STREAM_ARN, Harness, StreamWriter, order

from iceberg_cdc.announcer import glue_table_arn, source_table_arn


def test_source_and_target_arns_come_from_the_stream_arn() -> None:
    # Given the stream ARN / Then the DynamoDB table's and the Glue table's ARNs follow
    assert source_table_arn(STREAM_ARN) == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/datalake-events-dev-cdc-orders"
    )
    assert glue_table_arn(STREAM_ARN, "db", "orders") == (
        "arn:aws:glue:us-east-1:123456789012:table/db/orders"
    )
    assert glue_table_arn(None, "db", "orders") is None


def test_batch_event_is_put_with_the_components_source(cdc: Harness, stream: StreamWriter) -> None:
    # Given an applied batch / When announced
    report = cdc.apply([stream.insert(order("A")), stream.remove(order("B"))])
    error = cdc.cdc.announcer.announce(report, cdc.applier.options, STREAM_ARN)
    # Then one event with the component's source, the target table as resource and the counts
    assert error is None
    (entry,) = cdc.events.entries
    assert entry["Source"] == "datalake-events.iceberg-cdc"
    assert entry["DetailType"] == "CDC Batch Applied"
    assert entry["EventBusName"] == "datalake-bus"
    assert entry["Resources"] == [
        "arn:aws:glue:us-east-1:123456789012:table/datalake_events_test_cdc/orders"
    ]
    (detail,) = cdc.events.details("CDC Batch Applied")
    assert (detail["inserted"], detail["deleted"], detail["records_applied"]) == (1, 1, 2)


def test_nothing_is_announced_when_nothing_was_applied(cdc: Harness, stream: StreamWriter) -> None:
    # Given a batch whose only key failed / When announced / Then no event
    cdc.athena.poison = ("A",)
    report = cdc.apply([stream.insert(order("A"))])
    assert cdc.cdc.announcer.announce(report, cdc.applier.options, STREAM_ARN) is None
    assert cdc.events.entries == []


def test_announce_failure_is_returned_not_raised(cdc: Harness, stream: StreamWriter) -> None:
    # Given EventBridge down / When an applied batch is announced / Then the error comes back,
    # not as too large (a passing outage is no reason to replay a batch that is in the table)
    cdc.events.fail_next(1)
    report = cdc.apply([stream.insert(order("A"))])
    failure = cdc.cdc.announcer.announce(report, cdc.applier.options, STREAM_ARN)
    assert failure is not None
    assert failure.error is not None
    assert "InternalException" in failure.error
    assert not failure.too_large
