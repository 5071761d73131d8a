"""The `ecr-audit` command line.

Each subcommand lives in its own module under ``ecr_audit.commands`` exposing ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``; this file only dispatches, so adding a command
never touches another's code. Exit codes: 0 success; 1 the command's own verdict is "no": a
tripped gate (``findings --fail-on``), or for ``report`` and ``demo`` a report notebook that
failed (the executed notebook is kept to show where); 2 usage or input errors; 3 an internal error
(an unexpected exception, the traceback printed). A crash must not read as a tripped gate in CI,
so it has a code of its own.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from typing import Sequence

from ecr_audit._version import __version__

#: exit code of an unexpected exception (see the module docstring)
INTERNAL_ERROR = 3

#: subcommand name -> module under ecr_audit.commands
COMMANDS: dict[str, str] = {
    "collect": "collect",
    "demo": "demo",
    "simulate": "simulate",
    "findings": "findings",
    "report": "report",
    "explain": "explain",
    "diff": "diff",
    "whatif": "whatif",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecr-audit", description="Audit who can use Amazon ECR.")
    parser.add_argument("--version", action="version", version=f"ecr-audit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"ecr_audit.commands.{module_name}")
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every command's own errors are handled inside it
        traceback.print_exc()
        print(f"ecr-audit {args.command}: internal error: {type(error).__name__}: {error} (a bug; please report "
              "it with the traceback above)", file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
