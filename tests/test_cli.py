"""The command line's dispatch: a run builds the parser of the command it runs, and only that one."""

from __future__ import annotations

import subprocess
import sys

from ecr_audit.cli import COMMANDS, build_parser


def test_a_run_imports_the_module_of_its_own_command_only():
    probe = ("import contextlib, io, sys\n"
             "from ecr_audit.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
             "    main(['report', '--help'])\n"
             "print(sorted(name for name in sys.modules if name.startswith('ecr_audit.commands.')))")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout

    assert shown.strip() == "['ecr_audit.commands.report']"


def test_without_a_command_every_command_is_listed():
    parser = build_parser()
    assert set(parser._subparsers._group_actions[0].choices) == set(COMMANDS)
    assert set(build_parser("report")._subparsers._group_actions[0].choices) == {"report"}
