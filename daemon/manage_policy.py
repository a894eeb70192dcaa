"""``tesserad-manage policy ...``: policies on the database directly, for the admin who
locked everyone out with a policy (no login, no running daemon needed), and the table of
supported actions that the README shows.

Each command is one transaction; the policy store bumps its change stamp, so a running
daemon sees the change within a second.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from tesserad.core.context import Context
from tesserad.core.policy.actions import CATALOGUE, REGISTRY
from tesserad.core.policy.errors import PolicyError, PolicyNotFound

PolicyAction = Callable[[Context, Session, argparse.Namespace], str]
Wrap = Callable[[PolicyAction], Callable[..., str]]


def cmd_list(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    policies = ctx.policies.get_policies(session, scope=args.scope)
    lines = [f"{p['name']}\t{p['scope']}\t{'active' if p['active'] else 'inactive'}\tpriority {p['priority']}\t"
             + ", ".join(n if v is True else f"{n}={v}" for n, v in p["action"].items()) for p in policies]
    return "\n".join(lines) if lines else "no policies"


def cmd_show(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    found = ctx.policies.get_policies(session, name=args.name)
    if not found:
        raise PolicyNotFound(f"no policy is named {args.name!r}", field="name")
    return json.dumps(found[0], indent=2, sort_keys=True)


def cmd_enable(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    ctx.policies.enable_policy(session, args.name, True)
    return f"enabled policy {args.name}"


def cmd_disable(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    ctx.policies.enable_policy(session, args.name, False)
    return f"disabled policy {args.name}"


def cmd_delete(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    ctx.policies.delete_policy(session, args.name)
    return f"deleted policy {args.name}"


def cmd_export(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    text = ctx.policies.export_policies(session, args.names or None)
    if args.output in (None, "-"):
        return text.rstrip("\n")
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot write {args.output}: {exc.strerror}") from None
    return f"exported {len(json.loads(text)['policies'])} policies to {args.output}"


def cmd_import(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read {args.file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{args.file} is not UTF-8 text") from None
    result = ctx.policies.import_policies(session, text, cleanup=args.cleanup, update=not args.keep_existing,
                                          skip_unsupported=args.skip_unsupported)
    lines = [f"imported {result.written} policies"]
    lines += [f"dropped from policy {policy!r}: {action} (not supported yet)" for policy, action in result.dropped]
    return "\n".join(lines)


def actions_table(markdown: bool) -> str:
    """The offered actions per scope, and privacyIDEA's actions tesserad does not support yet."""
    if not markdown:
        return "\n".join(f"{scope}\t{name}\t{a.type}\t{a.enforced_by}"
                         for scope, actions in REGISTRY.items() for name, a in actions.items())
    lines = ["| scope | supported actions |", "| --- | --- |"]
    lines += [f"| {scope} | {', '.join(f'`{name}`' for name in actions)} |"
              for scope, actions in REGISTRY.items() if actions]
    lines += ["", "privacyIDEA actions tesserad does not support yet (saving or importing them is refused):", "",
              "| scope | not supported yet |", "| --- | --- |"]
    for scope, actions in CATALOGUE.items():
        missing = [name for name, a in actions.items() if not a.offered]
        if missing:
            lines.append(f"| {scope} | {', '.join(f'`{name}`' for name in missing)} |")
    return "\n".join(lines)


def cmd_actions(config: object, args: argparse.Namespace) -> str:
    return actions_table(args.markdown)


def add_parser(groups: argparse._SubParsersAction, transaction: Wrap) -> None:  # type: ignore[type-arg]
    """The ``policy`` command group; ``transaction`` runs a command in one committed session."""
    policy = groups.add_parser(
        "policy", help="policies, on the database directly (lock-out recovery)",
        description="Read and change policies in the database directly, without logging in: for the "
                    "admin whose policies lock everyone out. A running daemon sees changes within a second.")
    commands = policy.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = commands.add_parser("list", help="list policies: name, scope, state, priority, actions")
    listing.add_argument("--scope", help="only policies of this scope")
    listing.set_defaults(run=transaction(cmd_list))
    for name, run, text in (("show", cmd_show, "print one policy as JSON"),
                            ("enable", cmd_enable, "switch a policy on"),
                            ("disable", cmd_disable, "switch a policy off (e.g. the one that locks you out)"),
                            ("delete", cmd_delete, "delete a policy")):
        command = commands.add_parser(name, help=text)
        command.add_argument("name", help="the policy's name")
        command.set_defaults(run=transaction(run))
    export = commands.add_parser("export", help="write policies as JSON (readable by import and by POST "
                                                "/policy/import)")
    export.add_argument("names", nargs="*", help="only these policies (default: all)")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(run=transaction(cmd_export))
    load = commands.add_parser(
        "import", help="import a tesserad or privacyIDEA policy export",
        description="Every policy is checked before any is written. Actions tesserad does not "
                    "enforce yet refuse the whole import, each one named, unless --skip-unsupported.")
    load.add_argument("file", help="the export file ('-': standard input)")
    load.add_argument("--skip-unsupported", action="store_true",
                      help="import the policies without the actions tesserad does not support yet, "
                           "and list what was dropped")
    load.add_argument("--cleanup", action="store_true", help="delete all existing policies first")
    load.add_argument("--keep-existing", action="store_true",
                      help="leave policies that exist already as they are (default: replace them)")
    load.set_defaults(run=transaction(cmd_import))
    actions = commands.add_parser("actions", help="list the supported policy actions (no database needed)")
    actions.add_argument("--markdown", action="store_true",
                         help="as the README's tables, with privacyIDEA's actions not supported yet")
    actions.set_defaults(run=cmd_actions)
