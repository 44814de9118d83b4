"""The benchmark peers (feedparser, reader 3.26 and what they need), installed on first use.

The peers are not dependencies of tidings: `scripts/setup` leaves them out, and a benchmark
that compares against one calls :func:`require` first, which installs the versions pinned
in ``constraints.txt`` into the running interpreter's environment when they are missing
(pip's isolated builds, so a venv without ``wheel`` builds sgmllib3k too).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Importable module -> the distributions that provide it (and what it needs to import).
PEERS = {
    "feedparser": ["feedparser", "sgmllib3k"],
    "reader": ["reader", "sgmllib3k"],
}


def require(*modules: str) -> None:
    """Make sure each module imports, installing its pinned distributions if it does not."""
    missing: list[str] = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.extend(d for d in PEERS[module] if d not in missing)
    if not missing:
        return
    print(f"installing the benchmark peers {', '.join(missing)} (pinned in constraints.txt)", file=sys.stderr)
    env = {**os.environ, "PIP_CONSTRAINT": str(ROOT / "constraints.txt"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True, env=env)
    importlib.invalidate_caches()
    for module in modules:
        importlib.import_module(module)
