"""Fixtures and report hooks for real-peer tests.

- `gateway_factory(**kwargs)`: start a `GatewayProcess` (own data dir under tmp_path, free ports,
  probe adapter on by default); every gateway it made is closed (and its postgres schema dropped) at
  teardown, also when the test failed.
- `peer_procs(env, args, **kwargs)`: `start_peer` for long-running peers (workers, SDK services),
  each stopped at teardown.
- `gateway`: one started gateway with the defaults (sqlite, one gRPC port, probe adapter).
- On any failing test here, the report gets the tails of the logs of every peer the test ran and of
  every gateway alive (or closed) during it.

Peer environments are session fixtures in the protocol's test module or conftest, e.g.::

    @pytest.fixture(scope="session")
    def zeebe_env():
        return python_venv("pyzeebe47", python="3.11", requirements=["pyzeebe==4.7.0"])

`make test` runs `pytest -n 2 --dist loadfile`, so the tests of one file share a worker (and its
environment); the environment's file lock makes two workers asking for one environment harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.peers.harness import GatewayProcess, PeerProcess, live_logs, start_peer

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    live_logs.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed:
        for title, text in live_logs.sections():
            report.sections.append((title, text))
    return report


@pytest.fixture
def gateway_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., GatewayProcess]]:
    made: list[GatewayProcess] = []

    def make(*, start: bool = True, **kwargs: object) -> GatewayProcess:
        gw = GatewayProcess(tmp_path_factory.mktemp("gateway"), **kwargs)  # type: ignore[arg-type]
        made.append(gw)
        return gw.start() if start else gw

    yield make
    errors = []
    for gw in made:
        try:
            gw.close()
        except Exception as exc:  # close the rest, then report
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def gateway(gateway_factory: Callable[..., GatewayProcess]) -> GatewayProcess:
    return gateway_factory()


@pytest.fixture
def peer_procs() -> Iterator[Callable[..., PeerProcess]]:
    started: list[PeerProcess] = []

    def start(*args: object, **kwargs: object) -> PeerProcess:
        peer = start_peer(*args, **kwargs)  # type: ignore[arg-type]
        started.append(peer)
        return peer

    yield start
    for peer in reversed(started):
        peer.stop()
