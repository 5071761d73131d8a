"""The `ecr-audit` command line.

Each subcommand lives in its own module under ``ecr_audit.commands`` exposing ``HELP`` (one line),
``EXIT_CODES`` (code -> meaning, listed in its ``--help``), optionally ``EXAMPLE`` (shown in its
``--help`` too), ``add_arguments(parser)`` and ``run(args) -> int``; this file only dispatches, so
adding a command never touches another's code. Every message to the user, usage errors and the
package's logged warnings included, reads ``ecr-audit CMD: message`` on stderr. Exit codes: 0 success; 1 the command's own verdict is "no": a
tripped gate (``findings --fail-on``), or for ``report`` and ``demo`` a report notebook that
failed (the executed notebook is kept to show where); 2 usage or input errors; 3 an internal error
(an unexpected exception, the traceback printed). A crash must not read as a tripped gate in CI,
so it has a code of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import logging
import sys
import textwrap
import traceback
from typing import Iterator, Sequence

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


#: exit code of Ctrl-C (128 + SIGINT, as shells report it)
INTERRUPTED = 130
#: every command can end these ways (see the module docstring)
COMMON_EXIT_CODES = {INTERNAL_ERROR: "internal error: a bug, reported with its traceback",
                     INTERRUPTED: "interrupted (Ctrl-C)"}


class CommandParser(argparse.ArgumentParser):
    """argparse with the project's error style: the usage line, then ``ecr-audit CMD: message``, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {message}\n")


def exit_codes_epilog(codes: dict[int, str]) -> str:
    lines = ["exit codes:"]
    for code, meaning in sorted({**codes, **COMMON_EXIT_CODES}.items()):
        lines += textwrap.wrap(meaning, width=88, initial_indent=f"  {code:<4} ", subsequent_indent=" " * 7)
    return "\n".join(lines)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``command`` (one of :data:`COMMANDS`), that command's only.

    Each command's module (and what its options import: pandas, boto3...) is imported to build its
    parser, which costs about a second for all of them: a run builds the one it runs, and starts
    its work (a report's kernel) that much sooner.
    """
    parser = CommandParser(prog="ecr-audit", description="Audit who can use Amazon ECR.")
    parser.add_argument("--version", action="version", version=f"ecr-audit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in COMMANDS.items():
        if command in COMMANDS and name != command:
            continue
        module = importlib.import_module(f"ecr_audit.commands.{module_name}")
        epilog = exit_codes_epilog(module.EXIT_CODES)
        if example := getattr(module, "EXAMPLE", None):
            epilog = f"{example.strip()}\n\n{epilog}"
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP, epilog=epilog,
                                        formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


class _CommandFormatter(logging.Formatter):
    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        return f"ecr-audit {self.command}: {record.levelname.lower()}: {record.getMessage()}"


@contextlib.contextmanager
def _warnings_in_command_style(command: str) -> Iterator[None]:
    """The package's logged warnings (an unreadable policy in the snapshot, ...) on stderr as
    ``ecr-audit CMD: warning: ...`` rather than Python's bare default, for as long as the command runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_CommandFormatter(command))
    logger = logging.getLogger("ecr_audit")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs: its first word that is not an option (the program's own options,
    ``--version`` and ``--help``, take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_named(argv))
    args = parser.parse_args(argv)
    try:
        with _warnings_in_command_style(args.command):
            return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"ecr-audit {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush is silent too
        return 0
    except Exception as error:  # noqa: BLE001 - every command's own errors are handled inside it
        traceback.print_exc()
        print(f"ecr-audit {args.command}: internal error: {type(error).__name__}: {error} (a bug; please report "
              "it with the traceback above)", file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
