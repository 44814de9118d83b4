"""``tidings publish``: keep a mirror of the archive (original layout, static site, feeds,
search), optionally in git; and what ``tidings run --publish`` calls after each pass."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .base import cli, open_from_context, print_json

if TYPE_CHECKING:
    from ..archive import Archive
    from ..model import PublishReport


def publish_once(
    archive: Archive,
    out: Path,
    *,
    sites: tuple[str, ...] = (),
    base_url: str | None = None,
    lang: str | None = None,
    search: bool = True,
    git: bool = False,
    remote: str | None = None,
    message: str | None = None,
) -> PublishReport:
    """Publish and print what happened (one line, and the push error if any)."""
    from ..publish import publish

    report = publish(
        archive, out, sites=sites, base_url=base_url, lang=lang, search=search, git=git, remote=remote, message=message
    )
    print_report(report, out)
    return report


def print_report(report: PublishReport, out: Path) -> None:
    if not report.written:
        click.echo(f"nothing new: {report.articles} articles, 0 files written, in {out}")
    else:
        click.echo(
            f"{report.summary}: {report.written} files written, {report.unchanged} unchanged"
            f" ({report.seconds:.1f} s), in {out}"
        )
    if report.search:
        timing = f" ({report.search_seconds:.1f} s)" if report.search_seconds else ""
        click.echo(f"{report.search}{timing}")
    if report.commit:
        click.echo(f"committed {report.commit[:12]}")
    if report.pushed:
        click.echo("pushed")
    if report.push_error:
        click.echo(f"error: push failed (the commit is kept; the next publish pushes it): {report.push_error}", err=True)


@cli.command("publish")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--site", "sites", multiple=True, help="Publish only this site; repeatable.")
@click.option("--base-url", help="Where the mirror will be read (https://…/), for feeds, canonical links and the sitemap.")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the pages (default: that of most articles).")
@click.option(
    "--remote-images",
    is_flag=True,
    help="Load articles' images from their sites (default: shown as links, so the mirror asks no other host).",
)
@click.option("--no-search", is_flag=True, help="Do not build the search index (leave it as it is).")
@click.option("--git", "use_git", is_flag=True, help="Keep OUT in git: commit what this publish changed.")
@click.option("--push", "remote", metavar="REMOTE", help="Push to REMOTE (a remote's name, a path or a URL); implies --git.")
@click.option("--message", help="The commit's first line (the summary of what changed follows).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def publish_command(
    ctx: click.Context,
    out: Path,
    sites: tuple[str, ...],
    base_url: str | None,
    lang: str | None,
    remote_images: bool,
    no_search: bool,
    use_git: bool,
    remote: str | None,
    message: str | None,
    as_json: bool,
) -> None:
    """Publish the archive into OUT: the original layout (articles/, lists/, README.md), a
    static site that reads from disk or any static host (index.html), feeds of the whole
    history, search, a sitemap. Only what changed is written.

    Exit status 1 when a push failed (the commit is kept and pushed next time).
    """
    from ..publish import publish

    with open_from_context(ctx) as archive:
        report = publish(
            archive,
            out,
            sites=sites,
            base_url=base_url,
            lang=lang,
            images="remote" if remote_images else "link",
            search=not no_search,
            git=use_git,
            remote=remote,
            message=message,
        )
    if as_json:
        print_json({**asdict(report), "summary": report.summary})
    else:
        print_report(report, out)
        if report.written:
            click.echo(f"open {(out / 'index.html').resolve().as_uri()} (search needs a web server: tidings serve --mirror {out})")
    if report.push_error:
        ctx.exit(1)
