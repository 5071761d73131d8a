"""Helpers the tests share: account builders, report page parsers, demo cases. Test files import
from here, never from each other."""
