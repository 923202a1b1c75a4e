"""Unit tests run offline: any connection off the loopback interface fails the test."""

import io
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alert_fakes import Sleeps
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader
from samcli.yamlhelper import yaml_parse

from datalake_shared.observability import logger
from local_runtime.slack_sink import SlackSink

ROOT = Path(__file__).resolve().parents[2]
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkBlockedError(RuntimeError):
    """A unit test tried to reach the network."""


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # unix sockets and the like stay on this machine
    host = address[0]
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NetworkBlockedError(f"unit tests must not use the network (tried {address!r})")


@pytest.fixture(autouse=True)
def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def connect(sock: socket.socket, address: Any) -> None:
        _check_address(sock, address)
        _real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        _check_address(sock, address)
        return _real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml as data (CloudFormation short tags such as !Ref are understood)."""
    template: dict[str, Any] = yaml_parse((ROOT / "template.yaml").read_text())
    return template


# --- shared by every function's handler tests ------------------------------------------------


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    """JSON log lines the shared Powertools logger writes during the test."""
    stream = io.StringIO()
    handler = logger.registered_handler
    assert hasattr(handler, "setStream")
    previous = handler.setStream(stream)
    yield CapturedLogs(stream)
    handler.setStream(previous)


@pytest.fixture
def emitted_metrics(capsys: pytest.CaptureFixture[str]) -> MetricsReader:
    return MetricsReader(capsys)


# --- shared by the Slack tests and the alerting functions' tests ----------------------------


@pytest.fixture
def sink() -> Iterator[SlackSink]:
    """A real HTTP server on 127.0.0.1 standing in for Slack."""
    with SlackSink() as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
