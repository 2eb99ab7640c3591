"""`gateroom export | verify | serve`: argument handling only; the work is in backends."""

from __future__ import annotations

import argparse
import asyncio
import sys

from backends.bundle.errors import UnusableBundle
from backends.bundle.export import export_bundle
from backends.bundle.verify import verify_bundle
from backends.errors import GateError

EXIT_OK, EXIT_BROKEN, EXIT_UNUSABLE = 0, 1, 2


def _export(args: argparse.Namespace) -> int:
    result = export_bundle(args.session_dir, args.out)
    print(f"wrote {result.path}: {result.files} files, {result.records} records, digest {result.digest}")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    try:
        result = verify_bundle(args.bundle)
    except UnusableBundle as exc:
        print(f"gateroom: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if not result.ok:
        print(f"BROKEN: {result.problem}")
        return EXIT_BROKEN
    print(
        f"OK: {args.bundle}: manifest, {result.records} chained records (head {result.head[:12]}…) "
        f"and {result.decisions} decision binding(s) verified"
    )
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from backends.serve.server import parse_listen, serve_forever

    host, port = parse_listen(args.listen)
    asyncio.run(serve_forever(args.session_dir, host, port, args.keys))
    return EXIT_OK


def run_evidence_command(args: argparse.Namespace) -> int:
    commands = {"export": _export, "verify": _verify, "serve": _serve}
    try:
        return commands[args.command](args)
    except GateError as exc:
        print(f"gateroom: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return EXIT_OK if args.command == "serve" else EXIT_UNUSABLE
