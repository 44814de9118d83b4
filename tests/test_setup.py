"""The set-up script works in a virtual environment as `python3 -m venv` makes it.

Such an environment has pip and setuptools but no `wheel`: every build must run in pip's
isolated build environment. This test makes one, runs `scripts/setup` into it and runs
the installed command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tidings

ROOT = Path(__file__).resolve().parent.parent


def test_setup_in_a_fresh_venv_installs_the_runtime_only(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    before = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True
    ).stdout.lower()
    assert "wheel==" not in before  # as `python3 -m venv` makes it
    env = {**os.environ, "TIDINGS_VENV": str(venv), "PYTHON": base_python}
    env.pop("PIP_CONSTRAINT", None)
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup")], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    version = subprocess.run(
        [str(venv / "bin" / "tidings"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"tidings, version {tidings.__version__}"
    installed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True
    ).stdout.lower()
    # The runtime only: no test tools and no benchmark peers.
    for absent in ("pytest==", "playwright==", "reader==", "feedparser==", "sgmllib3k=="):
        assert absent not in installed
    # Pinned: what constraints.txt names is what got installed.
    pins = {
        line.split("==")[0].lower(): line.split("==")[1].strip()
        for line in (ROOT / "constraints.txt").read_text("utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    for line in installed.splitlines():
        if "==" in line:
            name, version_text = line.split("==", 1)
            name = name.replace("_", "-")
            pinned = pins.get(name) or pins.get(name.replace("-", "_"))
            if pinned is not None:
                assert version_text == pinned, name
    # A second run with nothing changed does nothing, fast.
    again = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup")], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and again.stdout == ""
