import socket

import pytest


def test_unit_tests_cannot_reach_the_network() -> None:
    # Given the autouse network block / When a test connects off the loopback interface
    # Then the connection is refused before any packet leaves (203.0.113.0/24 is TEST-NET-3)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(RuntimeError, match="must not use the network"),
    ):
        sock.connect(("203.0.113.10", 443))


def test_loopback_stays_reachable() -> None:
    # Given a listener on 127.0.0.1 (local fakes such as a webhook sink use loopback)
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        # When a test connects to it / Then the connection succeeds
        client.connect(server.getsockname())
        assert client.getpeername() == server.getsockname()
