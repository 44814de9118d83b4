"""What the web app and the published mirror share: the page templates and their words,
how pages link to each other, what each page shows, and the archive's own feeds.

``tidings serve`` renders these pages per request with links from the server's root;
``tidings publish`` renders the same templates once into files with relative links
(:class:`~tidings.pages.links.StaticLinks`), so both look alike and neither forks a
template. Nothing here touches the network or SQL: values come from an
:class:`~tidings.archive.Archive`.
"""

from __future__ import annotations

from .links import Links, ServerLinks, StaticLinks
from .render import Pages

__all__ = ["Links", "Pages", "ServerLinks", "StaticLinks"]
