"""Subscriptions before they reach the store: the form a feed URL is kept in, what can
never be fetched, a new feed's default site, and the shipped presets."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidInputError
from .model import FeedOptions

__all__ = ["PresetFeed", "check_feed_location", "default_site", "load_preset", "normalise_feed_url"]


def normalise_feed_url(url: str) -> str:
    """The form a subscription URL is stored in: WHATWG-serialised, or a file:// URL."""
    url = url.strip()
    if not url:
        raise InvalidInputError("empty feed URL")
    from .fetch.file import file_path, is_local

    if is_local(url):
        return file_path(url).expanduser().resolve().as_uri()
    from ada_url import URL

    try:
        href = URL(url).href
    except ValueError as exc:
        raise InvalidInputError(f"{url!r} is not a valid URL") from exc
    if urlsplit(href).scheme not in ("http", "https"):
        raise InvalidInputError(f"{url!r}: only http, https and file URLs can be fetched")
    return href


def check_feed_location(given: str, location: str) -> None:
    """Refuse a subscription that can never be fetched: a local path that names no file
    (often a mistyped URL), or a network URL without a host."""
    from .fetch.file import file_path

    parts = urlsplit(location)
    if parts.scheme == "file":
        path = file_path(location)
        if not path.is_file():
            later = " (--no-check subscribes to a local feed that will appear later)"
            if path.is_dir():
                raise InvalidInputError(f"{path} is a folder, not a feed file")
            if given.lower().startswith("file:") or any(c in given for c in "/\\") or given.startswith("~"):
                raise InvalidInputError(f"{path}: no such file{later}")
            raise InvalidInputError(f"{given!r} is neither an http(s) URL nor an existing file{later}")
    elif not parts.hostname:
        raise InvalidInputError(f"{given!r} has no host")


def default_site(url: str, *, title: str | None = None) -> str:
    """A site name for a feed added without one: its host; for a local file, the feed's
    title (``title``) if it has one, else the file's name without its extension."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        named = " ".join((title or "").split())
        if named:
            return named
        from .fetch.file import file_path

        return file_path(url).stem or "local"
    host = (parts.hostname or "feed").lower()
    return host[4:] if host.startswith("www.") else host


@dataclasses.dataclass(frozen=True, slots=True)
class PresetFeed:
    """One feed of a preset."""

    site: str
    url: str
    options: FeedOptions = FeedOptions()


def load_preset(name: str) -> list[PresetFeed]:
    """The feeds of a shipped preset (``original``: the original system's feeds).

    In a preset's options the word ``EMOJI`` stands for :data:`tidings.rules.EMOJI`.
    """
    try:
        from importlib import resources

        text = resources.files("tidings.presets").joinpath(f"{name}.json").read_text("utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise InvalidInputError(f"no preset named {name!r}") from exc
    from .rules import EMOJI

    feeds = []
    for item in json.loads(text)["feeds"]:
        options: dict[str, Any] = {k: EMOJI if v == "EMOJI" else v for k, v in item.get("options", {}).items()}
        feeds.append(PresetFeed(item["site"], item["url"], FeedOptions(**options)))
    return feeds
