"""The Zeebe peers' environments (pinned as in the brief), built once and cached under `.peers/`."""

from __future__ import annotations

from tests.peers.harness import PeerEnv, node_folder, python_venv


def pyzeebe47() -> PeerEnv:
    return python_venv("pyzeebe47", python="3.11", requirements=["pyzeebe==4.7.0"])


def pyzeebe24() -> PeerEnv:
    # zeebe-grpc 0.26 pins grpcio 1.34 / protobuf 3.14, which have no py3.11 wheels: --no-deps,
    # then a modern grpcio with the protobuf 3.x its generated code needs.
    return python_venv(
        "pyzeebe24",
        python="3.11",
        extra_steps=[
            ["--no-deps", "pyzeebe==2.4.0", "zeebe-grpc==0.26.0.0"],
            ["grpcio==1.85.1", "protobuf==3.20.3", "oauthlib", "requests-oauthlib", "requests"],
        ],
    )


def zbctl() -> PeerEnv:
    return node_folder("zbctl", ["zbctl@8.4.1"])
