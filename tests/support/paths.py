"""Where things are, for tests at any depth of the tree: the repository and the tests folder."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
