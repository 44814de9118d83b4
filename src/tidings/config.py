"""Settings: what the database, token, rules folder, user agent and server address are, and why.

Each setting comes from the first of these that gives it: a command-line flag,
an environment variable, the configuration file, the built-in default.

=============  ================  ======================  ==============  ==========================
setting        flag              environment variable    file key        default
=============  ================  ======================  ==============  ==========================
database       ``--db``          ``TIDINGS_DB``          ``database``    ``tidings.sqlite3`` in the
                                                                         user's data folder
token          ``--token``       ``TIDINGS_TOKEN``       ``token``       none
rules          ``--rules``       ``TIDINGS_RULES``       ``rules``       ``rules/`` in the user's
                                                                         configuration folder
user_agent     ``--user-agent``  ``TIDINGS_USER_AGENT``  ``user_agent``  none (the fetcher's own)
images                           ``TIDINGS_IMAGES``      ``images``      ``archive`` (or ``proxy``, ``none``)
keep_responses                   ``TIDINGS_KEEP_         ``keep_         ``false``: HTTP exchanges kept
                                 RESPONSES``             responses``     as WARC records (``true``)
warc_size                        ``TIDINGS_WARC_SIZE``   ``warc_size``   ``256`` (MiB per WARC file)
media                            ``TIDINGS_MEDIA``       ``media``       beside the database
                                                                         (``news.media/``)
warc                             ``TIDINGS_WARC``        ``warc``        beside the database
                                                                         (``news.warc/``)
host           ``--host``        ``TIDINGS_HOST``        ``serve.host``  ``127.0.0.1``
port           ``--port``        ``TIDINGS_PORT``        ``serve.port``  ``8080``
=============  ================  ======================  ==============  ==========================

The configuration file is ``tidings.toml`` in the user's configuration folder
(``~/.config/tidings/tidings.toml`` on Linux), unless one is named with
``--config FILE`` or ``$TIDINGS_CONFIG``::

    database = "archive.sqlite3"        # a path (relative to this file's folder) or a URL
    token = "a long random string"
    rules = "~/news/rules"
    user_agent = "my-archive/1.0 (+mailto:me@example.org)"
    images = "archive"                  # articles' images: archive, proxy or none
    keep_responses = true               # keep every HTTP exchange as WARC records
    warc_size = 256                     # MiB after which a WARC file is closed
    media = "/srv/news/media"           # archived images (a shared folder for many workers)
    warc = "/srv/news/warc"             # WARC files of kept exchanges

    [serve]
    host = "0.0.0.0"
    port = 8090

Every key is optional. Relative paths in the file are relative to the file's
folder and ``~`` is the home folder; paths in flags and environment variables
are taken as given (relative to the working folder). An environment variable
set to the empty string counts as not set. A ``database`` that starts with a
URL scheme (``postgresql://...``) is kept as a string; anything else is a path.

The default file may be missing; a file named explicitly must exist. A file
that cannot be read or parsed, an unknown key, or a value of the wrong type
raises :class:`~tidings.errors.InvalidInputError` with a one-line message that
names the file (or the variable, or the flag).

:func:`load_settings` is pure apart from reading the file and asking
platformdirs where the user's folders are: the environment and the flags are
passed in, and there is no global settings object.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import platformdirs

from .errors import InvalidInputError

__all__ = [
    "CONFIG_ENV",
    "CONFIG_FILE_NAME",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Settings",
    "default_config_file",
    "load_settings",
]

CONFIG_ENV: Final = "TIDINGS_CONFIG"
CONFIG_FILE_NAME: Final = "tidings.toml"
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8080

_APP = "tidings"
_HIDDEN = "set (hidden)"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_PORT_TEXT = re.compile(r"[0-9]{1,5}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def default_config_file() -> Path:
    """The configuration file read when none is named: ``tidings.toml`` in the user's configuration folder."""
    return _user_config_dir() / CONFIG_FILE_NAME


def _user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(_APP, appauthor=False))


def _user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(_APP, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """The settings in effect, each with where it came from.

    ``sources`` maps each field name (``database``, ``token``, ``rules``,
    ``user_agent``, ``host``, ``port``, ``config_file``) to ``default``,
    ``file:<path>``, ``env:<VARIABLE>`` or ``flag:<--option>``.

    ``config_file`` is the file that was read, or None when the default file
    does not exist. ``database`` is a :class:`~pathlib.Path`, or a ``str`` when
    it is a URL. ``token`` and ``user_agent`` are None when not set. The token
    is left out of ``repr()``.
    """

    database: Path | str
    token: str | None = field(repr=False)
    rules: Path
    user_agent: str | None
    images: str
    keep_responses: bool
    warc_size: int
    #: The media and WARC folders; None: beside the database (PostgreSQL: in the user's
    #: data folder).
    media: Path | None
    warc: Path | None
    host: str
    port: int
    config_file: Path | None
    sources: Mapping[str, str] = field(hash=False)

    def source(self, name: str) -> str:
        """Where the setting ``name`` (a field name) came from."""
        return self.sources[name]

    def describe(self) -> list[tuple[str, str, str]]:
        """``(name, value, source)`` rows for people, the token masked.

        Names are the keys of the configuration file (``serve.host``), led by
        ``config``: the file that was read, or where the default one was
        looked for.
        """
        if self.config_file is not None:
            config = str(self.config_file)
        else:
            config = f"none ({default_config_file()} does not exist)"
        rows = [("config", config, self.sources["config_file"])]
        for spec in _SPECS:
            value = getattr(self, spec.name)
            if spec.name == "token":
                shown = _HIDDEN if value is not None else "none"
            elif value is None:
                shown = {"user_agent": "none (the fetcher's own)", "media": "beside the database",
                         "warc": "beside the database"}.get(spec.name, "none")
            elif isinstance(value, bool):
                shown = "true" if value else "false"
            else:
                shown = str(value)
            rows.append((spec.key, shown, self.sources[spec.name]))
        return rows

    def as_json(self) -> dict[str, dict[str, Any]]:
        """The settings as JSON-ready data, the token masked.

        ``{name: {"value": ..., "source": ...}}`` with the names of
        :meth:`describe`; paths are strings, the port a number, unset values null.
        """
        data: dict[str, dict[str, Any]] = {
            "config": {
                "value": str(self.config_file) if self.config_file else None,
                "source": self.sources["config_file"],
            }
        }
        for spec in _SPECS:
            value = getattr(self, spec.name)
            if spec.name == "token" and value is not None:
                value = _HIDDEN
            elif isinstance(value, Path):
                value = str(value)
            data[spec.key] = {"value": value, "source": self.sources[spec.name]}
        return data


@dataclass(frozen=True)
class _Spec:
    name: str  # the Settings field and the key of ``flags``
    key: str  # the key in the file, dotted when in a table
    env: str
    flag: str
    is_path: bool


_SPECS: Final = (
    _Spec("database", "database", "TIDINGS_DB", "--db", True),
    _Spec("token", "token", "TIDINGS_TOKEN", "--token", False),
    _Spec("rules", "rules", "TIDINGS_RULES", "--rules", True),
    _Spec("user_agent", "user_agent", "TIDINGS_USER_AGENT", "--user-agent", False),
    _Spec("images", "images", "TIDINGS_IMAGES", "--images", False),
    _Spec("keep_responses", "keep_responses", "TIDINGS_KEEP_RESPONSES", "--keep-responses", False),
    _Spec("warc_size", "warc_size", "TIDINGS_WARC_SIZE", "--warc-size", False),
    _Spec("media", "media", "TIDINGS_MEDIA", "--media", True),
    _Spec("warc", "warc", "TIDINGS_WARC", "--warc", True),
    _Spec("host", "serve.host", "TIDINGS_HOST", "--host", False),
    _Spec("port", "serve.port", "TIDINGS_PORT", "--port", False),
)
_BY_NAME: Final = {spec.name: spec for spec in _SPECS}
_TABLES: Final = ("serve",)
_SETTING_KEYS: Final = frozenset(spec.key for spec in _SPECS)
_FILE_KEYS: Final = [spec.key for spec in _SPECS] + list(_TABLES)  # what a mistyped key may have meant


def load_settings(
    *,
    config_file: Path | None,
    environ: Mapping[str, str],
    flags: Mapping[str, object | None],
) -> Settings:
    """The settings in effect: flags over environment over file over defaults.

    ``config_file`` is the file named by ``--config`` (None: ``$TIDINGS_CONFIG``
    in ``environ``, else the default file, which may be missing). ``environ``
    is the environment (usually ``os.environ``). ``flags`` maps field names
    (``database``, ``token``, ``rules``, ``user_agent``, ``host``, ``port``) to
    the flag values; None, or a missing key, means the flag was not given.

    Raises :class:`~tidings.errors.InvalidInputError` for a named file that
    does not exist, a file that cannot be read or parsed, unknown keys and
    values of the wrong type; :class:`TypeError` for a key of ``flags`` that
    is not a setting.
    """
    unknown = sorted(set(flags) - set(_BY_NAME))
    if unknown:
        raise TypeError(f"unknown flags: {', '.join(unknown)} (expected some of {', '.join(_BY_NAME)})")

    named_by_env = environ.get(CONFIG_ENV) or None
    if config_file is not None:
        path, config_source, required = Path(config_file), "flag:--config", True
    elif named_by_env is not None:
        path, config_source, required = Path(named_by_env), f"env:{CONFIG_ENV}", True
    else:
        path, config_source, required = default_config_file(), "default", False
    from_file = _read_file(path, required=required, named_by=config_source)

    values: dict[str, object] = {
        "database": _user_data_dir() / "tidings.sqlite3",
        "token": None,
        "rules": _user_config_dir() / "rules",
        "user_agent": None,
        "images": "archive",
        "keep_responses": False,
        "warc_size": 256,
        "media": None,
        "warc": None,
        "host": DEFAULT_HOST,
        "port": DEFAULT_PORT,
    }
    sources = dict.fromkeys(values, "default")
    if from_file is not None:
        for name, value in from_file.items():
            values[name] = value
            sources[name] = f"file:{path}"
    for spec in _SPECS:
        raw = environ.get(spec.env)
        if raw:
            values[spec.name] = _check(spec, raw, f"${spec.env}", base=None)
            sources[spec.name] = f"env:{spec.env}"
    for name, raw_flag in flags.items():
        if raw_flag is not None:
            spec = _BY_NAME[name]
            flag_value = os.fspath(raw_flag) if isinstance(raw_flag, os.PathLike) else raw_flag
            values[name] = _check(spec, flag_value, spec.flag, base=None)
            sources[name] = f"flag:{spec.flag}"
    sources["config_file"] = config_source

    database = values["database"]
    token = values["token"]
    rules = values["rules"]
    user_agent = values["user_agent"]
    images = values["images"]
    keep_responses = values["keep_responses"]
    warc_size = values["warc_size"]
    media, warc = values["media"], values["warc"]
    host = values["host"]
    port = values["port"]
    # _check guarantees these; the asserts tell the type checker.
    assert isinstance(database, (Path, str)) and isinstance(rules, Path)
    assert token is None or isinstance(token, str)
    assert user_agent is None or isinstance(user_agent, str)
    assert isinstance(images, str)
    if images not in ("archive", "proxy", "none"):
        raise InvalidInputError(f"images must be archive, proxy or none, not {images!r} ({sources['images']})")
    assert isinstance(host, str) and isinstance(port, int)
    assert isinstance(keep_responses, bool) and isinstance(warc_size, int)
    assert (media is None or isinstance(media, Path)) and (warc is None or isinstance(warc, Path))
    return Settings(
        database=database,
        token=token,
        rules=rules,
        user_agent=user_agent,
        images=images,
        keep_responses=keep_responses,
        warc_size=warc_size,
        media=media,
        warc=warc,
        host=host,
        port=port,
        config_file=path if from_file is not None else None,
        sources=MappingProxyType(sources),
    )


def _read_file(path: Path, *, required: bool, named_by: str) -> dict[str, object] | None:
    """The settings a configuration file gives, by field name; None when the default file is missing."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        if not required:
            return None
        origin = "--config" if named_by.startswith("flag:") else f"${CONFIG_ENV}"
        raise InvalidInputError(f"{path}: no such configuration file (named by {origin})") from exc
    except IsADirectoryError as exc:
        raise InvalidInputError(f"{path}: is a folder, not a configuration file") from exc
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from exc
    import tomllib  # here: most runs have no configuration file

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{path}: not valid TOML: {exc}") from exc

    flat: dict[str, object] = {}
    for key, value in data.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                raise InvalidInputError(f"{path}: {key} must be a table ([{key}]), not {_toml_type(value)}")
            for inner, inner_value in value.items():
                flat[f"{key}.{inner}"] = inner_value
        else:
            flat[key] = value
    unknown = [key for key in flat if key not in _SETTING_KEYS]
    if unknown:
        described = ", ".join(_describe_unknown(key) for key in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise InvalidInputError(f"{path}: unknown key{plural} {described}")

    settings: dict[str, object] = {}
    for spec in _SPECS:
        if spec.key in flat:
            settings[spec.name] = _check(spec, flat[spec.key], f"{path}: {spec.key}", base=path.parent)
    return settings


def _describe_unknown(key: str) -> str:
    leaf = key.rpartition(".")[2]
    # A known key in the wrong table (port outside [serve]) is the likeliest mistake.
    misplaced = [known for known in _FILE_KEYS if known != key and known.rpartition(".")[2] == leaf]
    if misplaced:
        table = misplaced[0].rpartition(".")[0]
        return f"{key!r} (it belongs in [{table}])" if table else f"{key!r} (it belongs before any [table])"
    close = difflib.get_close_matches(key, _FILE_KEYS, n=1, cutoff=0.6)
    if not close:
        return repr(key)
    suggestion = close[0]
    if "." in suggestion:
        table, _, inner = suggestion.partition(".")
        return f"{key!r} (did you mean {inner!r} in [{table}]?)"
    return f"{key!r} (did you mean {suggestion!r}?)"


def _check(spec: _Spec, value: object, where: str, *, base: Path | None) -> object:
    """The setting's value from a raw one, or InvalidInputError naming ``where``.

    ``base`` is the folder relative paths are relative to (the file's), None
    for values from the environment or flags, which are taken as given.
    """
    if spec.name == "port":
        return _check_port(value, where, text_allowed=base is None)
    if spec.name == "keep_responses":
        return _check_flag(value, where)
    if spec.name == "warc_size":
        return _check_size(value, where)
    if not isinstance(value, str):
        raise InvalidInputError(f"{where} must be a string, not {_toml_type(value)}")
    if not value.strip():
        raise InvalidInputError(f"{where} must not be empty")
    if spec.name in ("token", "user_agent") and _CONTROL.search(value):
        raise InvalidInputError(f"{where} must not contain control characters (such as a line break)")
    if spec.name == "host" and any(c.isspace() for c in value):
        raise InvalidInputError(f"{where} must be a host name or address, not {value!r}")
    if not spec.is_path:
        return value
    if spec.name == "database" and _URL.match(value):
        return value
    path = Path(value)
    if base is not None:
        path = path.expanduser()
        if not path.is_absolute():
            path = base / path
    return path


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _check_flag(value: object, where: str) -> bool:
    """A yes or no: a TOML boolean in the file, or true/false, yes/no, on/off, 1/0 as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    shown = repr(value) if isinstance(value, str) else _toml_type(value)
    raise InvalidInputError(f"{where} must be true or false, not {shown}")


def _check_size(value: object, where: str) -> int:
    """A whole number of MiB from 1 to 1,048,576 (an integer in the file, digits as text)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1_048_576:
        return value
    shown = repr(value) if isinstance(value, str) else _toml_type(value) if not isinstance(value, int) else value
    raise InvalidInputError(f"{where} must be a whole number of MiB from 1 to 1048576, not {shown}")


def _check_port(value: object, where: str, *, text_allowed: bool) -> int:
    # The environment only holds text; in the file the port is a TOML integer.
    if text_allowed and isinstance(value, str) and _PORT_TEXT.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        shown = repr(value) if isinstance(value, str) else _toml_type(value)
        raise InvalidInputError(f"{where} must be a whole number from 1 to 65535, not {shown}")
    if not 1 <= number <= 65535:
        raise InvalidInputError(f"{where} must be a whole number from 1 to 65535, not {number}")
    return number


def _toml_type(value: object) -> str:
    """What TOML calls the type of a parsed value (for messages)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (datetime, date, time)):
        return "a date or time"
    return type(value).__name__
