"""The package version, at the bottom so that every stage can say which ecr-audit wrote a file."""

__version__ = "0.1.0"
