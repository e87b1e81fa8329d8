"""`gateway serve | check-config | version`: the console script.

Exit codes: 0 clean stop, 1 start-up failure (port taken, database unreachable), 2 configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from gateway.errors import ConfigError, Unavailable

log = logging.getLogger("gateway")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="The unified workflow gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (
        ("serve", "run the gateway until SIGTERM/SIGINT"),
        ("check-config", "print the effective configuration as JSON (file + GATEWAY_* env)"),
    ):
        cmd = sub.add_parser(name, help=help_)
        cmd.add_argument("--config", metavar="FILE", help="TOML file (default: the embedded gateway.toml)")
    sub.add_parser("version", help="print the version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "version":
        from gateway.server import gateway_version

        print(gateway_version())
        return 0
    from gateway.settings import load_settings

    try:
        settings = load_settings(args.config)
        if args.command == "check-config":
            from gateway.server import resolve_adapters

            resolve_adapters(settings)
            print(settings.model_dump_json(indent=2))
            return 0
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    return serve(settings)


def serve(settings: object) -> int:
    from gateway.observability import setup_logging
    from gateway.server import Gateway, check_protobuf_backend
    from gateway.settings import Settings

    assert isinstance(settings, Settings)
    setup_logging(settings.log.level)
    check_protobuf_backend()
    try:
        asyncio.run(Gateway(settings).run())
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    except Unavailable as exc:
        log.error("cannot start: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 0
    except Exception:
        # Not a configuration or availability problem: a bug, so keep the traceback.
        log.exception("gateway failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
