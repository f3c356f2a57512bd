"""``python -m scenegen`` runs the command line."""

from .cli import run

run()
