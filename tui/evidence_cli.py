"""`gateroom export | verify | serve`: argument handling only; the work is in backends."""

from __future__ import annotations

import argparse
import asyncio
import sys

from backends.bundle.errors import UnusableBundle
from backends.bundle.export import export_bundle
from backends.bundle.verify import read_bundle, verify_bundle
from backends.config import GitHubSettings, load_settings
from backends.errors import GateError
from backends.evidence.witness import Witnessed, WitnessError
from backends.sshsig import AllowedSignersError, parse_allowed_signers
from backends.witness import parse_issue_ref
from backends.witness_cli import fetch_witnesses, witness_export

EXIT_OK, EXIT_BROKEN, EXIT_UNUSABLE = 0, 1, 2


def _export(args: argparse.Namespace) -> int:
    settings = load_settings(args.witness_config) if args.witness_config else None  # bad config: before work
    result = export_bundle(args.session_dir, args.out, sign_key=args.sign_key)
    signed = ", manifest signed" if args.sign_key else ""
    print(
        f"wrote {result.path}: {result.files} files, {result.records} records, digest {result.digest}{signed}"
    )
    if settings is None:
        return EXIT_OK
    head = verify_bundle(result.path).head
    posted = asyncio.run(witness_export(settings, args.session_dir, result.records, head))
    if posted.reason:
        print(f"gateroom: bundle written, but its witness was not posted: {posted.reason}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(f"witnessed on {posted.issue}: {posted.records} records, head {posted.head[:12]}… ({posted.url})")
    return EXIT_OK


def _witnesses(args: argparse.Namespace) -> list[Witnessed] | WitnessError | None:
    if not args.witness:
        if args.witness_config or args.witness_author:
            raise GateError("--witness-config and --witness-author need --witness OWNER/NAME#N")
        return None
    try:
        issue = parse_issue_ref(args.witness)
    except ValueError as exc:
        raise GateError(f"--witness: {exc}") from None
    if args.witness_config:
        github = load_settings(args.witness_config).github
        if github is None:
            raise GateError(f"{args.witness_config}: has no [github] section")
    else:
        github = GitHubSettings(platform_repo=issue.repo)
    return asyncio.run(fetch_witnesses(github, issue, args.witness_author))


def _sign(args: argparse.Namespace) -> int:
    from backends.decision import Actor, prepare_signed
    from backends.session import Session
    from backends.sshsig import DECISION_NAMESPACE, load_private_key, sign_with_key

    key = load_private_key(args.key)
    actor = Actor(str(key.get_fingerprint("sha256")), "owner")
    session = Session(args.session_dir)
    event = prepare_signed(
        session, actor, args.decision, args.comment, lambda m: sign_with_key(key, DECISION_NAMESPACE, m)
    )
    session.store.record_event(event)
    session.store.flush()
    print(f"recorded {event.decision} by {actor.who}, signed, on chain head {event.chain_head[:12]}…")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    try:
        signers = parse_allowed_signers(args.allowed_signers) if args.allowed_signers else None
        read_bundle(args.bundle)  # an unusable bundle is named before GitHub is asked anything
        result = verify_bundle(args.bundle, signers, _witnesses(args))
    except (UnusableBundle, AllowedSignersError) as exc:
        print(f"gateroom: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if not result.ok:
        print(f"BROKEN: [{result.stage}] {result.problem}")
        return EXIT_BROKEN
    for stage in result.stages:
        print(f"{stage.name}: {stage.status} — {stage.detail}")
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


def _publish(args: argparse.Namespace) -> int:
    from backends.events import Event, PublishStep
    from backends.publish.command import publish_session

    settings = load_settings(args.config)

    def show(event: Event) -> None:
        if isinstance(event, PublishStep) and event.status != "failed":
            where = f"  {event.url}" if event.url else ""
            print(f"{event.step:9} {event.target}: {event.status}{where}", flush=True)

    result = asyncio.run(publish_session(settings, args.session_dir, show))
    what = f"{result.changed} change(s)" if result.changed else "nothing to change: all was already right"
    print(f"published to {result.repo}: {what}; bundle digest {result.digest}")
    return EXIT_OK


def run_evidence_command(args: argparse.Namespace) -> int:
    commands = {"export": _export, "verify": _verify, "serve": _serve, "sign": _sign, "publish": _publish}
    try:
        return commands[args.command](args)
    except GateError as exc:
        print(f"gateroom: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return EXIT_OK if args.command == "serve" else EXIT_UNUSABLE
