"""Settings: flags over environment over file over defaults, with clear errors for bad input."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from tidings.config import (
    CONFIG_ENV,
    DEFAULT_HOST,
    DEFAULT_PORT,
    Settings,
    default_config_file,
    load_settings,
)
from tidings.errors import InvalidInputError

SECRET = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The user's configuration and data folders, inside tmp_path (a real user's file is never read)."""
    folders = {"config": tmp_path / "user-config", "data": tmp_path / "user-data"}

    def config_dir(appname: str | None = None, appauthor: str | bool | None = None, **_: object) -> str:
        assert (appname, appauthor) == ("tidings", False)
        return str(folders["config"] / "tidings")

    def data_dir(appname: str | None = None, appauthor: str | bool | None = None, **_: object) -> str:
        assert (appname, appauthor) == ("tidings", False)
        return str(folders["data"] / "tidings")

    monkeypatch.setattr(platformdirs, "user_config_dir", config_dir)
    monkeypatch.setattr(platformdirs, "user_data_dir", data_dir)
    return folders


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(config_file: Path | None = None, environ: dict[str, str] | None = None, **flags: object) -> Settings:
    return load_settings(config_file=config_file, environ=environ or {}, flags=flags)


def load_error(config_file: Path | None = None, environ: dict[str, str] | None = None, **flags: object) -> str:
    with pytest.raises(InvalidInputError) as caught:
        load(config_file, environ, **flags)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- defaults and the default file ------------------------------------------------------------


def test_without_any_file_the_built_in_defaults_apply(user_dirs: dict[str, Path]) -> None:
    settings = load()
    assert settings.database == user_dirs["data"] / "tidings" / "tidings.sqlite3"
    assert settings.token is None
    assert settings.rules == user_dirs["config"] / "tidings" / "rules"
    assert settings.user_agent is None
    assert (settings.host, settings.port) == (DEFAULT_HOST, DEFAULT_PORT) == ("127.0.0.1", 8080)
    assert settings.config_file is None
    assert set(settings.sources.values()) == {"default"}
    assert settings.describe()[0] == ("config", f"none ({default_config_file()} does not exist)", "default")


def test_the_default_file_is_tidings_toml_in_the_user_config_folder(user_dirs: dict[str, Path]) -> None:
    path = write(user_dirs["config"] / "tidings" / "tidings.toml", 'token = "from-default-file"\n')
    assert default_config_file() == path
    settings = load()
    assert settings.config_file == path
    assert settings.token == "from-default-file"
    assert settings.source("token") == f"file:{path}"
    assert settings.source("config_file") == "default"
    assert settings.source("host") == "default"


def test_an_empty_file_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.toml", "")
    settings = load(path)
    assert settings.config_file == path
    assert dataclasses.replace(settings, config_file=None, sources={}) == dataclasses.replace(
        load(), sources={}
    )


# --- precedence, for every setting ------------------------------------------------------------

# name, TOML text, the value it gives, environment variable, its text, the value it gives, flag value, flag name
PRECEDENCE = [
    ("database", 'database = "/srv/file.sqlite3"', Path("/srv/file.sqlite3"),
     "TIDINGS_DB", "/srv/env.sqlite3", Path("/srv/env.sqlite3"), Path("/srv/flag.sqlite3"), "--db"),
    ("token", 'token = "file-token"', "file-token",
     "TIDINGS_TOKEN", "env-token", "env-token", "flag-token", "--token"),
    ("rules", 'rules = "/srv/file-rules"', Path("/srv/file-rules"),
     "TIDINGS_RULES", "/srv/env-rules", Path("/srv/env-rules"), Path("/srv/flag-rules"), "--rules"),
    ("user_agent", 'user_agent = "file-agent/1"', "file-agent/1",
     "TIDINGS_USER_AGENT", "env-agent/1", "env-agent/1", "flag-agent/1", "--user-agent"),
    ("host", '[serve]\nhost = "192.0.2.1"', "192.0.2.1",
     "TIDINGS_HOST", "192.0.2.2", "192.0.2.2", "192.0.2.3", "--host"),
    ("port", "[serve]\nport = 8001", 8001,
     "TIDINGS_PORT", "8002", 8002, 8003, "--port"),
]


@pytest.mark.parametrize(
    ("name", "toml", "file_value", "env", "env_text", "env_value", "flag_value", "flag"),
    PRECEDENCE,
    ids=[row[0] for row in PRECEDENCE],
)
def test_flags_over_environment_over_file_over_default(
    tmp_path: Path,
    name: str,
    toml: str,
    file_value: object,
    env: str,
    env_text: str,
    env_value: object,
    flag_value: object,
    flag: str,
) -> None:
    path = write(tmp_path / "tidings.toml", toml + "\n")
    default = getattr(load(), name)

    only_file = load(path)
    assert (getattr(only_file, name), only_file.source(name)) == (file_value, f"file:{path}")
    assert default != file_value

    environ = {env: env_text}
    file_and_env = load(path, environ)
    assert (getattr(file_and_env, name), file_and_env.source(name)) == (env_value, f"env:{env}")

    everything = load(path, environ, **{name: flag_value})
    assert (getattr(everything, name), everything.source(name)) == (flag_value, f"flag:{flag}")

    env_and_flag = load(None, environ, **{name: flag_value})
    assert (getattr(env_and_flag, name), env_and_flag.source(name)) == (flag_value, f"flag:{flag}")

    not_given = load(path, environ, **{name: None})
    assert (getattr(not_given, name), not_given.source(name)) == (env_value, f"env:{env}")

    only_env = load(None, environ)
    assert (getattr(only_env, name), only_env.source(name)) == (env_value, f"env:{env}")

    # Each source sets its own setting only.
    others = {key: source for key, source in everything.sources.items() if key not in (name, "config_file")}
    assert set(others.values()) == {"default"}


def test_an_empty_environment_variable_counts_as_not_set(tmp_path: Path) -> None:
    path = write(tmp_path / "tidings.toml", 'token = "file-token"\n')
    settings = load(path, {"TIDINGS_TOKEN": "", "TIDINGS_PORT": "", CONFIG_ENV: ""})
    assert (settings.token, settings.source("token")) == ("file-token", f"file:{path}")
    assert (settings.port, settings.source("port")) == (8080, "default")


def test_the_process_environment_can_be_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_PORT", "9090")
    settings = load_settings(config_file=None, environ=os.environ, flags={})
    assert (settings.port, settings.source("port")) == (9090, "env:TIDINGS_PORT")


def test_paths_and_text_given_as_flags_are_accepted(tmp_path: Path) -> None:
    settings = load(database=str(tmp_path / "a.sqlite3"), rules=tmp_path / "r", port="8123")
    assert settings.database == tmp_path / "a.sqlite3"
    assert settings.rules == tmp_path / "r"
    assert settings.port == 8123


def test_an_unknown_flag_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="db"):
        load(db="x.sqlite3")


# --- which file ---------------------------------------------------------------------------------


def test_the_environment_names_the_file_and_the_flag_overrides_it(
    tmp_path: Path, user_dirs: dict[str, Path]
) -> None:
    write(user_dirs["config"] / "tidings" / "tidings.toml", 'token = "default-file"\n')
    by_env = write(tmp_path / "env.toml", 'token = "env-file"\n')
    by_flag = write(tmp_path / "flag.toml", 'token = "flag-file"\n')

    settings = load(None, {CONFIG_ENV: str(by_env)})
    assert (settings.token, settings.config_file, settings.source("config_file")) == (
        "env-file",
        by_env,
        f"env:{CONFIG_ENV}",
    )
    settings = load(by_flag, {CONFIG_ENV: str(by_env)})
    assert (settings.token, settings.config_file, settings.source("config_file")) == (
        "flag-file",
        by_flag,
        "flag:--config",
    )
    assert settings.describe()[0] == ("config", str(by_flag), "flag:--config")


# --- relative paths -----------------------------------------------------------------------------


def test_relative_paths_in_the_file_are_relative_to_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "conf" / "tidings.toml", 'database = "data/news.sqlite3"\nrules = "../rules"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load(path)
    assert settings.database == tmp_path / "conf" / "data" / "news.sqlite3"
    assert settings.rules == tmp_path / "conf" / ".." / "rules"
    assert settings.rules.resolve() == (tmp_path / "rules").resolve()


def test_a_relatively_named_file_gives_paths_relative_to_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "conf" / "tidings.toml", 'database = "news.sqlite3"\n')
    monkeypatch.chdir(tmp_path)
    settings = load(Path("conf/tidings.toml"))
    assert (tmp_path / settings.database).resolve() == (tmp_path / "conf" / "news.sqlite3").resolve()


def test_home_in_the_file_is_expanded_and_absolute_paths_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    absolute = tmp_path / "abs.sqlite3"
    path = write(tmp_path / "conf" / "tidings.toml", f'database = {json.dumps(str(absolute))}\nrules = "~/rules"\n')
    settings = load(path)
    assert settings.database == absolute
    assert settings.rules == home / "rules"


def test_relative_paths_from_the_environment_and_flags_are_kept_as_given(tmp_path: Path) -> None:
    path = write(tmp_path / "conf" / "tidings.toml", "")
    settings = load(path, {"TIDINGS_DB": "here.sqlite3"}, rules="my-rules")
    assert settings.database == Path("here.sqlite3")
    assert settings.rules == Path("my-rules")


@pytest.mark.parametrize("url", ["postgresql://news@db.example/archive", "sqlite:///news.sqlite3"])
def test_a_database_url_is_kept_as_text(tmp_path: Path, url: str) -> None:
    path = write(tmp_path / "conf" / "tidings.toml", f'database = "{url}"\n')
    assert load(path).database == url
    assert load(None, {"TIDINGS_DB": url}).database == url
    assert load(None, {}, database=url).database == url


# --- errors -------------------------------------------------------------------------------------


def test_a_file_named_by_the_flag_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    message = load_error(missing)
    assert str(missing) in message and "no such configuration file" in message and "--config" in message


def test_a_file_named_by_the_environment_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    message = load_error(None, {CONFIG_ENV: str(missing)})
    assert str(missing) in message and f"${CONFIG_ENV}" in message


def test_a_folder_is_not_a_configuration_file(tmp_path: Path) -> None:
    message = load_error(tmp_path)
    assert str(tmp_path) in message and "folder" in message


def test_the_default_file_when_present_is_checked_too(user_dirs: dict[str, Path]) -> None:
    path = write(user_dirs["config"] / "tidings" / "tidings.toml", "tokn = 'x'\n")
    message = load_error()
    assert message.startswith(f"{path}: ")


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_bytes('token = "caf\u00e9"\n'.encode("latin-1"))
    message = load_error(path)
    assert message.startswith(f"{path}: ") and "UTF-8" in message


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_bytes(b'\xef\xbb\xbftoken = "t"\n')
    assert load(path).token == "t"


def test_toml_that_does_not_parse_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "tidings.toml", 'database = "a.sqlite3"\ntoken = \nrules = "r"\n')
    message = load_error(path)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 2, column 9" in message


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('databse = "x"', "unknown key 'databse' (did you mean 'database'?)"),
        ('user-agent = "x"', "unknown key 'user-agent' (did you mean 'user_agent'?)"),
        ("port = 80", "unknown key 'port' (it belongs in [serve])"),
        ('[serve]\nhots = "x"', "unknown key 'serve.hots' (did you mean 'host' in [serve]?)"),
        ('[serve]\ndatabase = "x"', "unknown key 'serve.database' (it belongs before any [table])"),
        ("[server]\nport = 80", "unknown key 'server' (did you mean 'serve'?)"),
        ("colour = true", "unknown key 'colour'"),
        ('tokn = "x"\nfrobnicate = 1', "unknown keys 'tokn' (did you mean 'token'?), 'frobnicate'"),
    ],
)
def test_unknown_keys_are_named_with_the_close_one(tmp_path: Path, toml: str, expected: str) -> None:
    path = write(tmp_path / "tidings.toml", toml + "\n")
    assert load_error(path) == f"{path}: {expected}"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("database = 1", "database must be a string, not an integer"),
        ("token = true", "token must be a string, not a boolean"),
        ('token = ""', "token must not be empty"),
        ("rules = []", "rules must be a string, not an array"),
        ('user_agent = "a\\nX-Injected: 1"', "user_agent must not contain control characters"),
        ("serve = 8080", "serve must be a table ([serve]), not an integer"),
        ('[serve]\nhost = ""', "serve.host must not be empty"),
        ('[serve]\nhost = "my host"', "serve.host must be a host name or address, not 'my host'"),
        ('[serve]\nport = "8080"', "serve.port must be a whole number from 1 to 65535, not '8080'"),
        ("[serve]\nport = 80.0", "serve.port must be a whole number from 1 to 65535, not a float"),
        ("[serve]\nport = true", "serve.port must be a whole number from 1 to 65535, not a boolean"),
        ("[serve]\nport = 0", "serve.port must be a whole number from 1 to 65535, not 0"),
        ("[serve]\nport = 65536", "serve.port must be a whole number from 1 to 65535, not 65536"),
        ("[serve]\nport = 1979-05-27", "serve.port must be a whole number from 1 to 65535, not a date or time"),
    ],
)
def test_values_of_the_wrong_type_in_the_file(tmp_path: Path, toml: str, expected: str) -> None:
    path = write(tmp_path / "tidings.toml", toml + "\n")
    assert load_error(path).startswith(f"{path}: {expected}")


def test_ports_at_the_ends_of_the_range_are_fine(tmp_path: Path) -> None:
    assert load(write(tmp_path / "a.toml", "[serve]\nport = 1\n")).port == 1
    assert load(write(tmp_path / "b.toml", "[serve]\nport = 65535\n")).port == 65535


@pytest.mark.parametrize("text", ["abc", "0", "70000", "+80", " 80", "8_080", "80.0", "\u0668\u0660"])
def test_a_bad_port_in_the_environment(text: str) -> None:
    message = load_error(None, {"TIDINGS_PORT": text})
    assert message.startswith("$TIDINGS_PORT must be a whole number from 1 to 65535, not ")


def test_bad_flag_values_name_the_flag() -> None:
    assert load_error(port=0) == "--port must be a whole number from 1 to 65535, not 0"
    assert load_error(port=True) == "--port must be a whole number from 1 to 65535, not a boolean"
    assert load_error(host="") == "--host must not be empty"
    assert load_error(token="a\nb").startswith("--token must not contain control characters")


def test_a_bad_environment_value_names_the_variable() -> None:
    assert load_error(None, {"TIDINGS_USER_AGENT": "x\r\nHost: evil"}).startswith(
        "$TIDINGS_USER_AGENT must not contain control characters"
    )


# --- rendering ----------------------------------------------------------------------------------


def test_describe_shows_every_setting_and_masks_the_token(tmp_path: Path) -> None:
    path = write(tmp_path / "tidings.toml", f'token = "{SECRET}"\n[serve]\nport = 8090\n')
    settings = load(path, {"TIDINGS_HOST": "0.0.0.0"}, user_agent="probe/2")
    rows = settings.describe()
    assert rows == [
        ("config", str(path), "flag:--config"),
        ("database", str(tmp_path / "user-data" / "tidings" / "tidings.sqlite3"), "default"),
        ("token", "set (hidden)", f"file:{path}"),
        ("rules", str(tmp_path / "user-config" / "tidings" / "rules"), "default"),
        ("user_agent", "probe/2", "flag:--user-agent"),
        ("images", "archive", "default"),
        ("keep_responses", "false", "default"),
        ("warc_size", "256", "default"),
        ("media", "beside the database", "default"),
        ("warc", "beside the database", "default"),
        ("serve.host", "0.0.0.0", "env:TIDINGS_HOST"),
        ("serve.port", "8090", f"file:{path}"),
    ]
    assert SECRET not in repr(rows)


def test_images_setting_comes_from_the_environment_and_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "tidings.toml", 'images = "proxy"\n')
    assert load(path, {}).images == "proxy"
    assert load(path, {"TIDINGS_IMAGES": "none"}).images == "none"
    with pytest.raises(InvalidInputError, match="archive, proxy or none"):
        load(path, {"TIDINGS_IMAGES": "all"})


def test_keep_responses_and_warc_size_are_read_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "tidings.toml", "keep_responses = true\nwarc_size = 64\n")
    settings = load(path, {})
    assert (settings.keep_responses, settings.warc_size) == (True, 64)
    assert load(path, {"TIDINGS_KEEP_RESPONSES": "off", "TIDINGS_WARC_SIZE": "2048"}).keep_responses is False
    assert load(path, {"TIDINGS_WARC_SIZE": "2048"}).warc_size == 2048
    with pytest.raises(InvalidInputError, match="true or false"):
        load(path, {"TIDINGS_KEEP_RESPONSES": "sometimes"})
    with pytest.raises(InvalidInputError, match="whole number of MiB"):
        load(path, {"TIDINGS_WARC_SIZE": "0"})
    bad = write(tmp_path / "bad.toml", 'keep_responses = "maybe"\nwarc_size = 1.5\n')
    with pytest.raises(InvalidInputError, match="keep_responses"):
        load(bad, {})


def test_media_and_warc_folders_are_settings_the_archive_uses(tmp_path: Path) -> None:
    import tidings

    path = write(tmp_path / "conf" / "tidings.toml", 'media = "shared/media"\nwarc = "~/warc"\n')
    settings = load(path, {})
    assert settings.media == tmp_path / "conf" / "shared" / "media"  # relative to the file's folder
    assert settings.warc == Path("~/warc").expanduser()
    assert load(path, {"TIDINGS_MEDIA": str(tmp_path / "elsewhere")}).media == tmp_path / "elsewhere"
    assert load(write(tmp_path / "empty.toml", ""), {}).media is None
    with tidings.open_archive(tmp_path / "news.sqlite3", media=settings.media, warc=tmp_path / "w") as archive:
        assert archive.media is not None and archive.media.folder == settings.media and archive.warc == tmp_path / "w"
    with tidings.open_archive(tmp_path / "news.sqlite3") as archive:  # default: beside the database
        assert archive.media is not None and archive.media.folder == tmp_path / "news.media"
        assert archive.warc == tmp_path / "news.warc"


def test_unset_values_are_described_as_none() -> None:
    rows = dict((name, value) for name, value, _ in load().describe())
    assert rows["token"] == "none"
    assert rows["user_agent"] == "none (the fetcher's own)"


def test_as_json_is_json_with_the_token_masked(tmp_path: Path) -> None:
    path = write(tmp_path / "tidings.toml", f'token = "{SECRET}"\n')
    data = load(path).as_json()
    text = json.dumps(data)
    assert SECRET not in text
    assert data["token"] == {"value": "set (hidden)", "source": f"file:{path}"}
    assert data["serve.port"] == {"value": 8080, "source": "default"}
    assert data["user_agent"] == {"value": None, "source": "default"}
    assert data["config"] == {"value": str(path), "source": "flag:--config"}
    assert list(data) == [name for name, _, _ in load(path).describe()]
    assert load().as_json()["token"]["value"] is None
    assert load().as_json()["config"]["value"] is None


def test_the_token_is_not_in_repr(tmp_path: Path) -> None:
    settings = load(None, {}, token=SECRET)
    assert settings.token == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def test_settings_are_frozen_and_hashable() -> None:
    settings = load()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.sources["port"] = "flag:--port"  # type: ignore[index]
    assert hash(settings) == hash(load())


# --- import weight ------------------------------------------------------------------------------


def test_importing_the_module_stays_light() -> None:
    heavy = ["httpx", "trafilatura", "starlette", "asyncio", "lxml", "uvicorn"]
    code = f"import sys, tidings.config; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
