"""Peer: a plain grpcio client (own venv, own process) checking gRPC health and reflection.

For every `--target`: Health.Check("") and Check(<each --serving name>) answer SERVING, Check("nope")
fails with NOT_FOUND; reflection (v1alpha) lists the services and resolves `--symbol` (and every method
of every `--describe` service) through a DescriptorPool fed by the server; `--echo` services get a raw
unary `Echo` call (bytes in, same bytes out). Prints one `RESULT <json>` line per target (the test
asserts the exact service names), then `PASS`; exits non-zero on the first mismatch.
"""

from __future__ import annotations

import argparse
import json
import sys

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

SERVING = health_pb2.HealthCheckResponse.SERVING


def check_target(target: str, serving: list[str], symbol: str, describe: list[str], echo: list[str]) -> dict:
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        health = health_pb2_grpc.HealthStub(channel)
        statuses = {}
        for name in ["", *serving]:
            resp = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            statuses[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
            if resp.status != SERVING:
                raise SystemExit(f"FAIL {target}: Check({name!r}) = {statuses[name]}, want SERVING")
        try:
            resp = health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
        except grpc.RpcError as exc:
            nope = exc.code().name
        else:
            nope = f"answered {resp.status}"
        if nope != "NOT_FOUND":
            raise SystemExit(f"FAIL {target}: Check('nope') -> {nope}, want NOT_FOUND")

        db = ProtoReflectionDescriptorDatabase(channel)
        services = sorted(db.get_services())
        pool = DescriptorPool(db)
        missing = sorted(set(describe) - set(services))
        if missing:
            raise SystemExit(f"FAIL {target}: reflection lists {services}, missing {missing}")
        methods = {}
        for svc in describe:
            desc = pool.FindServiceByName(svc)
            methods[svc] = sorted(m.name for m in desc.methods)
            for m in desc.methods:  # every method's types must resolve too
                pool.FindMessageTypeByName(m.input_type.full_name)
                pool.FindMessageTypeByName(m.output_type.full_name)
        file_desc = db.FindFileContainingSymbol(symbol)
        echoed = {}
        for svc in echo:
            payload = f"ping {target}".encode()
            answer = channel.unary_unary(f"/{svc}/Echo")(payload, timeout=5)
            if answer != payload:
                raise SystemExit(f"FAIL {target}: {svc}/Echo returned {answer!r}")
            echoed[svc] = answer.decode()
        return {
            "target": target,
            "statuses": statuses,
            "nope": nope,
            "services": services,
            "methods": methods,
            "symbol": symbol,
            "symbol_file": file_desc.name,
            "echo": echoed,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", action="append", required=True, help="host:port, repeatable")
    parser.add_argument("--serving", action="append", default=[], help="service name expected SERVING")
    parser.add_argument("--symbol", default="grpc.health.v1.Health.Check")
    parser.add_argument("--describe", action="append", default=[], help="service to resolve fully")
    parser.add_argument("--echo", action="append", default=[], help="service with a bytes Echo method")
    args = parser.parse_args()
    for target in args.target:
        result = check_target(target, args.serving, args.symbol, args.describe, args.echo)
        print("RESULT " + json.dumps(result), flush=True)
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
