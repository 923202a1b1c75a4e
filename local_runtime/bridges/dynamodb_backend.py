"""Which engine serves the stack's DynamoDB tables and streams: one switch, one adapter each.

moto (the default) serves DynamoDB like every other service. With ``LOCAL_DYNAMODB=dynamodb-local``
(or ``LocalRuntime(dynamodb="dynamodb-local")``) AWS's DynamoDB Local serves the tables and their
streams instead, while everything else stays on moto: it refuses requests moto lets through
(FACTS.md, "Real engines that run here"). The runtime and the stream bridge reach the engine
through ``DynamoDbBackend`` only; what belongs to one engine (moto's internals, DynamoDB Local's
process and its quirks) stays in its adapter: ``dynamodb_moto``, ``dynamodb_local``.
"""

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    import boto3

    from local_runtime.deploy import DeployedStack
    from local_runtime.intrinsics import Resolver
    from local_runtime.template import TranslatedTemplate

LOCAL_DYNAMODB_VARIABLE: Final = "LOCAL_DYNAMODB"
MOTO: Final = "moto"
DYNAMODB_LOCAL: Final = "dynamodb-local"
BACKEND_NAMES: Final = (MOTO, DYNAMODB_LOCAL)


class DynamoDbBackend(Protocol):
    """An engine holding the stack's tables. Lifecycle calls come from LocalRuntime, in this
    order: ``start`` (before the stack deploys), ``create_tables`` (after), ``stop``; the stream
    calls come from the DynamoDB stream bridge while the runtime runs."""

    name: str

    @property
    def description(self) -> str:
        """What serves DynamoDB, for people (the demo's header)."""
        ...

    def start(self, session: "boto3.session.Session") -> None:
        """Brings the engine up; every DynamoDB and DynamoDB Streams client the process creates
        from then on (functions, bridges, Glue runs, tests) reaches it."""
        ...

    def create_tables(
        self, translated: "TranslatedTemplate", stack: "DeployedStack", resolver: "Resolver"
    ) -> None:
        """Every AWS::DynamoDB::Table the stack created, as the template declares it (streams,
        TTL, indexes), under the physical name the stack gave it."""
        ...

    def stop(self) -> None: ...

    # ------------------------------------------------------------------ streams
    def take_over_stream(self, table_name: str) -> None:
        """Stops the engine's own delivery of the table's stream: the bridge delivers."""
        ...

    def stream_to_read(self, table_name: str, mapping_arn: str) -> str:
        """The ARN to read the stream a mapping names (``mapping_arn``) at, on this engine."""
        ...

    def time_to_live_attribute(self, table_name: str) -> str | None:
        """The table's TTL attribute, if TTL is on for it (as the template or a call set it)."""
        ...

    def ttl_deletion(self, table_name: str, key: Mapping[str, Any]) -> AbstractContextManager[None]:
        """Wraps the deletion of one expired item (the ``with`` body deletes it; an exception
        means it was not deleted): its REMOVE record then reads as the TTL service's."""
        ...

    def as_stored(self, stream_arn: str, record: dict[str, Any]) -> dict[str, Any]:
        """A record of ``get_records`` on ``stream_arn``, as DynamoDB on AWS returns it."""
        ...


def backend_name(requested: str | None = None) -> str:
    """``requested``, else ``LOCAL_DYNAMODB`` from the environment, else moto."""
    name = (requested or os.environ.get(LOCAL_DYNAMODB_VARIABLE, "")).strip() or MOTO
    if name not in BACKEND_NAMES:
        raise ValueError(
            f"unknown DynamoDB backend {name!r} ({LOCAL_DYNAMODB_VARIABLE}): "
            f"expected one of {', '.join(BACKEND_NAMES)}"
        )
    return name


def dynamodb_backend(requested: str | None = None) -> DynamoDbBackend:
    """The adapter of the backend ``backend_name(requested)`` names (nothing started yet). For
    DynamoDB Local, ``LOCAL_DYNAMODB_ENDPOINT`` names one already running to use instead of
    starting one for the runtime."""
    # Imported here: the adapters import this module's names.
    if backend_name(requested) == DYNAMODB_LOCAL:
        from local_runtime.bridges.dynamodb_local import (  # noqa: PLC0415
            SHARED_ENDPOINT_VARIABLE,
            DynamoDbLocalBackend,
        )

        return DynamoDbLocalBackend(os.environ.get(SHARED_ENDPOINT_VARIABLE) or None)
    from local_runtime.bridges.dynamodb_moto import MotoDynamoDbBackend  # noqa: PLC0415

    return MotoDynamoDbBackend()
