"""Write the man page of ``tesserad`` or ``tesserad-manage`` (troff) from its argparse parser.

Generated at package build time, so the pages list exactly the options and commands the
installed version has.  Usage: ``python manpage.py tesserad|tesserad-manage > FILE.8``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

from tesserad import __version__
from tesserad.daemon import main as daemon_main
from tesserad.daemon import manage

PARSERS = {"tesserad": daemon_main.parser, "tesserad-manage": manage.parser}
FILES = [
    ("/etc/tesserad/tesserad.toml", "the configuration (TOML); \\fBtesserad-manage config check\\fR validates it"),
    ("/var/lib/tesserad", "data directory: the SQLite database and \\fIkeys/\\fR (encryption keys, audit "
                          "signing key pair)"),
    ("/var/lib/tesserad/initial-admin-password", "the initial administrator's password after a package "
                                                 "install (root only); delete it once changed"),
    ("/run/tesserad/pam.sock", "the socket pam_tesserad.so talks to"),
]


def escape(text: str) -> str:
    """Text as troff reads it literally: backslashes, and leading dots or quotes."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def options(parser: argparse.ArgumentParser) -> list[str]:
    lines = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        flags = ", ".join(f"\\fB{escape(flag)}\\fR" + (f" \\fI{action.metavar}\\fR" if action.metavar else "")
                          for flag in action.option_strings)
        lines += [".TP", flags, escape(action.help or "")]
    return lines


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    """Every leaf subcommand with its arguments and help, depth first."""
    lines = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            path = f"{prefix} {name}".strip()
            nested = commands(sub, path)
            if nested:
                lines += nested
                continue
            args = " ".join(f"\\fI{a.dest.upper()}\\fR" for a in sub._actions
                            if not a.option_strings and a.dest != "help")
            opts = " ".join(f"[\\fB{escape(a.option_strings[0])}\\fR \\fI{a.dest.upper()}\\fR]" for a in sub._actions
                            if a.option_strings and a.dest != "help")
            lines += [".TP", f"\\fB{escape(path)}\\fR {args} {opts}".rstrip(), escape(helps.get(name) or "")]
    return lines


def page(name: str) -> str:
    parser = PARSERS[name]()
    usage = parser.format_usage().removeprefix("usage: ").strip()
    # Reproducible builds set SOURCE_DATE_EPOCH (dpkg-buildpackage does, from debian/changelog).
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    date = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date() if epoch else datetime.date.today()
    lines = [f'.TH {escape(name.upper())} 8 "{date:%Y-%m-%d}" "tesserad {__version__}" '
             '"System Administration"',
             ".SH NAME", f"{escape(name)} \\- {escape(parser.description.split(':')[0].rstrip('.'))}",
             ".SH SYNOPSIS", f"\\fB{escape(name)}\\fR {escape(usage.removeprefix(name).strip())}",
             ".SH DESCRIPTION", escape(parser.description), ".SH OPTIONS", *options(parser)]
    subcommands = commands(parser)
    if subcommands:
        lines += [".SH COMMANDS", *subcommands]
    if parser.epilog:
        lines += [".SH NOTES", escape(parser.epilog)]
    lines += [".SH FILES"]
    for path, meaning in FILES:
        lines += [".TP", f"\\fI{escape(path)}\\fR", meaning]
    other = "tesserad-manage" if name == "tesserad" else "tesserad"
    lines += [".SH SEE ALSO", f"\\fB{escape(other)}\\fR(8), \\fBsystemctl\\fR(1)"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in PARSERS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(PARSERS)}")
    sys.stdout.write(page(sys.argv[1]))
