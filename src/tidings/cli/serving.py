"""Commands about running tidings: serve the archive, show the configuration in effect."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import click

from .base import cli, fail, open_from_context, print_json, settings_from_context


@cli.command("serve")
@click.option("--host", help="Address to listen on (default: $TIDINGS_HOST, the configuration file, else 127.0.0.1: loopback unless told otherwise).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default: $TIDINGS_PORT, the configuration file, else 8080).")
@click.option("--token", help="Token for changes: API calls present it, people sign in with it (default: $TIDINGS_TOKEN, the configuration file; none: changes are off).")
@click.option("--images", type=click.Choice(["proxy", "none", "direct"]), default="proxy", show_default=True, help="Article images: through this server (refusing private addresses), shown as links, or loaded from their sites.")
@click.option("--base-url", help="The address readers reach the archive at (behind a proxy): ids and links of its Atom/JSON feeds; only with it are X-Forwarded-For/-Proto from this machine believed.")
@click.option("--private", is_flag=True, help="Reading needs the token too (sign-in page, Bearer, or HTTP Basic password).")
@click.option("--allow-local-feeds", is_flag=True, help="Let the web app and API add and fetch local feed files (paths, file:// URLs); by default only http(s) feeds.")
@click.option("--request-timeout", type=click.FloatRange(0.1, 3600), default=10.0, show_default=True, help="Seconds a client has to send a whole request (headers and body) before the connection is closed.")
@click.option("--max-connections", type=click.IntRange(1, 100_000), default=256, show_default=True, help="Open connections at most; one more is answered 503 and closed.")
@click.option("--mirror", type=click.Path(file_okay=False, path_type=Path), help="Serve this published mirror (tidings publish DIR) instead of the archive, so its search works; no database is opened.")
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    token: str | None,
    images: str,
    base_url: str | None,
    private: bool,
    allow_local_feeds: bool,
    request_timeout: float,
    max_connections: int,
    mirror: Path | None,
) -> None:
    """Serve the archive in a browser and as a JSON API (OpenAPI at /api/openapi.json), or
    with --mirror a published mirror's files."""
    settings = settings_from_context(ctx, host=host, port=port, token=token)
    if mirror is not None:
        _serve_mirror(ctx, mirror, settings.host, settings.port, request_timeout, max_connections)
        return
    if private and not settings.token:
        raise click.UsageError("--private needs --token (or $TIDINGS_TOKEN): the token is how readers get in")
    with open_from_context(ctx) as archive:  # opens (and migrates) the database before serving
        database = archive.store.path  # type: ignore[attr-defined]
    listener = _listen(ctx, settings.host, settings.port)
    import uvicorn

    from ..web import create_app
    from ..web.server import guarded_protocol

    app = create_app(
        database,
        token=settings.token,
        images=images,
        private=private,
        base_url=base_url,
        allow_local_feeds=allow_local_feeds,
        media=settings.media,
    )
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    click.echo(f"serving {database} at http://{shown}:{settings.port}/ (Ctrl-C stops)")
    config = uvicorn.Config(
        app,
        log_level="warning",
        http=guarded_protocol(request_timeout=request_timeout, max_connections=max_connections),
        ws="none",  # the app has no WebSocket routes
        h11_max_incomplete_event_size=16 * 1024,  # request line and headers
        timeout_keep_alive=5,
        # X-Forwarded-For and -Proto are believed (from this machine) only behind a proxy,
        # which --base-url declares: otherwise any local process could pose as any client
        # and dodge the back-off on wrong tokens.
        proxy_headers=base_url is not None,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[listener])


def _serve_mirror(
    ctx: click.Context, folder: Path, host: str, port: int, request_timeout: float, max_connections: int
) -> None:
    from ..web.mirror import create_mirror_app

    try:
        app = create_mirror_app(folder)
    except ValueError as exc:
        fail(ctx, str(exc), 1)
    listener = _listen(ctx, host, port)
    import uvicorn

    from ..web.server import guarded_protocol

    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving the mirror {folder} at http://{shown}:{port}/ (Ctrl-C stops)")
    config = uvicorn.Config(
        app,
        log_level="warning",
        http=guarded_protocol(request_timeout=request_timeout, max_connections=max_connections),
        ws="none",
        timeout_keep_alive=5,
    )
    uvicorn.Server(config).run(sockets=[listener])


def _listen(ctx: click.Context, host: str, port: int) -> socket.socket:
    """Bind the listening socket before anything is printed, so that a busy port or an
    address this machine does not have is one line, not a server traceback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(ctx, f"cannot listen on {host!r}: {exc.strerror}", 1)
    family, kind, proto, _name, address = infos[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            fail(ctx, f"port {port} is in use; pick another with --port", 1)
        fail(ctx, f"cannot listen on {host} port {port}: {exc.strerror or exc}", 1)
    return listener


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@click.pass_context
def config_command(ctx: click.Context, as_json: bool) -> None:
    """Show the settings in effect and where each comes from (flag, environment, file, default)."""
    settings = settings_from_context(ctx)
    if as_json:
        print_json(settings.as_json())
        return
    rows = settings.describe()
    width = max(len(name) for name, _value, _source in rows)
    for name, value, source in rows:
        click.echo(f"{name:<{width}}  {value}  ({source})")
