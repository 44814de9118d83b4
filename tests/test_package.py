"""The shape of the package: public names, import layering, docs that match the code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import click

import tidings
from tidings.cli import cli

SRC = Path(tidings.__file__).parent
ROOT = SRC.parent.parent

# Each module may import only from modules of a lower layer (or its own package).
LAYERS = [
    {"errors", "version"},
    {"model", "config"},
    {"siterules", "textindex", "records", "cursors"},
    {"document", "store", "fetch", "parse", "opml", "rules", "schedule", "identity", "presets", "clean", "history"},
    {"extract", "derive", "query", "snippet", "diff", "failures", "subscriptions", "media", "warc"},
    {"importing", "export", "update", "images"},
    {"backfill", "import_warc"},
    {"fetching"},
    {"archive"},
    {"pages"},
    {"web", "publish"},
    {"cli", "__init__"},
    {"__main__"},
]


def layer_of(module: str) -> int:
    for index, names in enumerate(LAYERS):
        if module in names:
            return index
    raise AssertionError(f"module {module} is in no layer; add it to LAYERS")


def test_public_names():
    helpers = {"annotations", "TYPE_CHECKING", "Any"}
    exported = {
        name
        for name in dir(tidings)
        if not name.startswith("_")
        and name not in helpers
        and not isinstance(getattr(tidings, name), type(sys))
    }
    assert sorted(tidings.__all__) == sorted(exported | {"__version__"})
    for name in tidings.__all__:
        assert getattr(tidings, name) is not None
    assert issubclass(tidings.DocumentError, ValueError)
    assert issubclass(tidings.DocumentError, tidings.TidingsError)
    assert issubclass(tidings.StorageError, tidings.TidingsError)


def test_imports_flow_one_way():
    problems = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        top = relative.parts[0].removesuffix(".py")
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                depth = node.level - (1 if len(relative.parts) > 1 else 0)
                if depth != 1 or not node.module:
                    continue  # within the same subpackage
                target = node.module.split(".")[0]
                if target != top and layer_of(target) >= layer_of(top):
                    problems.append(f"{relative} imports {target}")
            elif isinstance(node, ast.ImportFrom) and node.module == "tidings":
                problems.append(f"{relative} imports the package root")
    assert problems == []


def test_only_the_store_imports_sqlite3():
    users = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "import sqlite3" in path.read_text("utf-8")
    ]
    assert users and all(user.startswith("store/sqlite") for user in users), users  # the SQLite store's modules


def walk_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(walk_commands(command, f"{prefix}{name} "))
    return found


def test_every_command_and_option_is_in_the_readme():
    readme = (ROOT / "README.md").read_text("utf-8")
    missing = []
    for name, command in walk_commands(cli):
        if f"tidings {name}" not in readme:
            missing.append(f"command {name}")
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-") and opt not in ("--help",) and opt not in readme:
                    missing.append(f"{name} {opt}")
    for param in cli.params:
        for opt in getattr(param, "opts", []):
            if opt not in readme:
                missing.append(f"global {opt}")
    assert missing == []


def test_every_module_has_a_docstring():
    undocumented = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if ast.get_docstring(ast.parse(path.read_text("utf-8"))) is None
    ]
    assert undocumented == []


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "tidings", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"tidings, version {tidings.__version__}"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "bash scripts/test" in ci and "bash scripts/test" in readme


def test_the_library_type_checks_strictly():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


HEAVY = ("trafilatura", "httpx", "starlette", "uvicorn", "asyncio", "lxml", "nh3", "opencc")


def _modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code + "; import sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    )
    return {name.split(".")[0] for name in done.stdout.split()}


def test_importing_tidings_and_its_cli_loads_no_heavy_library():
    """`import tidings`, the CLI and an open archive start fast: the libraries for fetching,
    cleaning, parsing and serving load only where they are used."""
    for code in (
        "import tidings",
        "import tidings.cli",
        "import tidings; tidings.open_archive, tidings.Archive",
    ):
        assert _modules_after(code) & set(HEAVY) == set(), code
    # ... and they do load when used.
    assert {"lxml"} <= _modules_after("import tidings; tidings.parse_feed")
    # An update pass loads the parser, the cleaner and the site rules on the first body it
    # reads: an all-304 pass needs none of them.
    assert _modules_after("import tidings.update, tidings.fetching") & {"lxml", "nh3", "opencc", "trafilatura"} == set()
