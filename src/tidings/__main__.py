"""``python -m tidings``: the same as the ``tidings`` command."""

from .cli import main

main()
