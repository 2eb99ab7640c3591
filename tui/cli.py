"""`gateroom` command line: parses arguments and hands everything else to the backends or the app."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from backends.config import load_settings
from backends.errors import GateError
from backends.gate import Gate, open_demo_gate, open_gate
from backends.headless import EXIT_COULD_NOT_RUN, run_headless
from backends.redact import engine_report
from backends.sandbox.faults import FaultSet
from backends.sandbox.world import DEMO_WAIVERS, fault_descriptions

Opener = Callable[[], Awaitable[Gate]]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--headless",
        action="store_true",
        help="no UI: progress lines, reports, exit code 0 GO / 1 NO-GO / 2 could not run",
    )
    p.add_argument(
        "--session-dir", type=Path, metavar="DIR", help="session directory (resumed if it holds a session)"
    )
    p.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report (headless)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write a JSON report (headless)")
    p.add_argument("--rerun", action="store_true", help="re-run items a resumed session already finished")
    p.add_argument(
        "--waive",
        action="append",
        default=[],
        metavar="CHECK=REASON",
        help="headless: waive a failing check (e.g. secrets/sec.secret-env) with a reason (recorded)",
    )


def _version() -> str:
    """The package version and the redaction engine in use (Hyperscan, or the pure-Python fallback)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("gateroom")
    except PackageNotFoundError:
        number = "(not installed)"
    return f"gateroom {number}; redaction: {engine_report()}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateroom", description="Gate Room: the control room for a kodex e2e regression gate."
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = sub.add_parser(
        "demo", help="start the built-in sandbox on loopback and open the control room on it"
    )
    _common(demo)
    demo.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="switch on a sandbox fault (repeatable)"
    )
    demo.add_argument("--list-faults", action="store_true", help="list the sandbox faults and exit")
    demo.add_argument("--verbose", action="store_true", help="print where each sandbox server listens")
    demo.add_argument(
        "--platform-locale",
        choices=["ru", "en"],
        default="ru",
        help="the sandbox platform's KODEX_AGENT_DEFAULT_LOCALE (default %(default)s, as stock)",
    )
    demo.add_argument(
        "--via-host",
        action="store_true",
        help="reach the cluster as on a real VPS: k3s.yaml over SSH, the API through an SSH port forward",
    )
    run = sub.add_parser("run", help="open the control room against a real target described by a config file")
    _common(run)
    run.add_argument("--config", type=Path, required=True, metavar="FILE", help="gateroom.toml")
    sandbox = sub.add_parser(
        "sandbox", help="run the sandbox world alone and write a config for `gateroom run` into DIR"
    )
    sandbox.add_argument("--dir", type=Path, required=True, metavar="DIR", help="where to write the config")
    sandbox.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="switch on a sandbox fault (repeatable)"
    )
    _evidence_commands(sub)
    return parser


def _evidence_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = sub.add_parser("export", help="write the session's evidence bundle (a directory or .tar.gz)")
    export.add_argument("--session-dir", type=Path, required=True, metavar="DIR", help="the session")
    export.add_argument("--out", type=Path, required=True, metavar="PATH", help="a new directory or .tar.gz")
    export.add_argument(
        "--sign-key", type=Path, metavar="FILE", help="sign the manifest with this SSH private key"
    )
    export.add_argument(
        "--witness-config",
        type=Path,
        metavar="FILE",
        help="post the exported chain head on the gate's GitHub issue ([github] and [witness] of FILE)",
    )
    verify = sub.add_parser("verify", help="check a bundle: exit 0 intact, 1 broken (names what), 2 unusable")
    verify.add_argument("bundle", type=Path, metavar="PATH", help="a bundle directory or .tar.gz")
    verify.add_argument(
        "--allowed-signers",
        type=Path,
        metavar="FILE",
        help="OpenSSH allowed_signers: require the manifest and every decision signed by a listed key",
    )
    verify.add_argument(
        "--witness",
        metavar="OWNER/NAME#N",
        help="the gate's GitHub issue: the bundle must hold every chain head witnessed there",
    )
    verify.add_argument(
        "--witness-config",
        type=Path,
        metavar="FILE",
        help="GitHub API address and token variable from FILE's [github] (default: github.com, "
        "$GATEROOM_GITHUB_TOKEN)",
    )
    verify.add_argument(
        "--witness-author", metavar="LOGIN", help="count only witnesses posted by this GitHub account"
    )
    sign = sub.add_parser("sign", help="record the owner's decision, signed with an SSH key")
    sign.add_argument("--session-dir", type=Path, required=True, metavar="DIR", help="the session")
    sign.add_argument("--key", type=Path, required=True, metavar="FILE", help="the owner's SSH private key")
    sign.add_argument("decision", choices=("GO", "NO-GO"))
    sign.add_argument("--comment", default="", help="the reason, recorded with the decision")
    publish = sub.add_parser(
        "publish",
        help="publish the decided evidence: a pull request with the documents, the bundle on a draft "
        "release, a comment on the closeout issue ([publish] of the config; safe to run again)",
    )
    publish.add_argument("--session-dir", type=Path, required=True, metavar="DIR", help="the session")
    publish.add_argument(
        "--config", type=Path, default=Path("gateroom.toml"), metavar="FILE", help="default %(default)s"
    )
    serve = sub.add_parser("serve", help="serve the Gate Room over SSH to the keys in a keys file")
    serve.add_argument("--session-dir", type=Path, required=True, metavar="DIR", help="the session")
    serve.add_argument("--listen", default="127.0.0.1:2222", metavar="HOST:PORT", help="default %(default)s")
    serve.add_argument(
        "--keys", type=Path, required=True, metavar="FILE", help="lines of: ROLE KEYTYPE BASE64 [COMMENT]"
    )


def _openers(args: argparse.Namespace) -> Opener:
    if args.command == "demo":
        FaultSet(args.fault)  # reject an unknown fault before anything starts
        return lambda: open_demo_gate(
            args.session_dir, args.fault, locale=args.platform_locale, via_host=args.via_host
        )
    settings = load_settings(args.config)
    return lambda: open_gate(settings, args.session_dir)


def _waivers(args: argparse.Namespace) -> list[tuple[str, str]]:
    found = []
    for item in args.waive:
        key, sep, reason = item.partition("=")
        if not sep or not key.strip() or not reason.strip():
            raise GateError(f"--waive {item!r}: write CHECK=REASON (a waiver needs a reason)")
        found.append((key.strip(), reason.strip()))
    if args.command == "demo":
        # the demo's platform is the stock one, with its known upstream finding: waived out loud
        found += [(k, r) for k, r in DEMO_WAIVERS.items() if k not in {key for key, _ in found}]
    return found


def _print_endpoints(gate: Gate) -> None:
    print(f"redaction: {engine_report()}")
    if gate.world is not None:
        for line in gate.world.endpoints():
            print(line)


def _sandbox(args: argparse.Namespace) -> int:
    from backends.sandbox.standalone import serve_sandbox

    try:
        FaultSet(args.fault)
        asyncio.run(serve_sandbox(args.dir, args.fault, sys.stdout))
    except GateError as exc:
        print(f"gateroom: {exc}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except OSError as exc:
        print(f"gateroom: sandbox: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in {"export", "verify", "serve", "sign", "publish"}:
        from tui.evidence_cli import run_evidence_command

        return run_evidence_command(args)
    if args.command == "sandbox":
        return _sandbox(args)
    if getattr(args, "list_faults", False):
        print("\n".join(fault_descriptions()))
        return 0
    try:
        opener = _openers(args)
        if args.headless:
            on_open = _print_endpoints if getattr(args, "verbose", False) else None
            waivers = _waivers(args)
            return asyncio.run(
                run_headless(
                    opener,
                    junit=args.junit,
                    json_path=args.json,
                    rerun=args.rerun,
                    on_open=on_open,
                    waivers=waivers,
                )
            )
        from tui.app import GateRoomApp

        app = GateRoomApp(opener, rerun=args.rerun, verbose=getattr(args, "verbose", False))
        app.run()
        if app.exit_error:
            print(f"gateroom: {app.exit_error}", file=sys.stderr)
            return EXIT_COULD_NOT_RUN
        return 0
    except GateError as exc:
        print(f"gateroom: {exc}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except KeyboardInterrupt:
        print("gateroom: interrupted; evidence recorded so far is kept", file=sys.stderr)
        return EXIT_COULD_NOT_RUN


if __name__ == "__main__":
    sys.exit(main())
