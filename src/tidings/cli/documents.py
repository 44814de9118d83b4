"""Commands about the archive as a whole: import, export, stats, reindex, reclean."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

import click

from .base import cli, open_from_context, print_json

#: Every format ``tidings export --format`` knows.
FORMATS = ("documents", "jsonl", "opml", "warc")
#: Every format ``tidings import --format`` knows.
IMPORT_FORMATS = ("documents", "warc")

@cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--site", help="Put every article in this site instead of the folder's.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(IMPORT_FORMATS),
    help="documents: archive documents; warc: a WARC file (a tidings export, or another crawler's"
    " feed and page captures). Default: warc for a file named *.warc or *.warc.gz.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--no-derive",
    is_flag=True,
    help="Only import: leave cleaning and indexing to the next update (or reclean).",
)
@click.pass_context
def import_command(
    ctx: click.Context, path: Path, site: str | None, fmt: str | None, as_json: bool, no_derive: bool
) -> None:
    """Import archive documents (a repository with articles/<site>/…, a folder, or one
    file), or a WARC file.

    Files or records that cannot be read are reported with the reason; the others are
    imported and the exit status is 1. Importing the same files again adds nothing.
    """
    if fmt == "warc" or (fmt is None and path.name.lower().endswith((".warc", ".warc.gz"))):
        if site is not None:
            raise click.UsageError("--site is for documents; a WARC's articles keep their sites")
        _import_warc(ctx, path, as_json, no_derive)
        return
    with open_from_context(ctx) as archive:
        if sys.stderr.isatty() and not as_json:
            with click.progressbar(length=0, label="importing", file=sys.stderr) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                report = archive.import_documents(path, site=site, progress=progress)
        else:
            report = archive.import_documents(path, site=site)
        derived = 0 if no_derive else archive.derive()
    for problem in report.errors:
        click.echo(f"error: {problem.path}: {problem.reason}", err=True)
    if not report.files and not as_json:
        click.echo(
            f"error: no documents found in {path} (a repository with articles/<site>/…,"
            " or a folder of .md or .txt files)",
            err=True,
        )
        ctx.exit(1)
    if as_json:
        print_json({**asdict(report), "derived": derived})
    elif report.files and report.unchanged == report.files - len(report.errors):
        click.echo(f"nothing new: all {report.unchanged} readable files are already archived")
    else:
        click.echo(
            f"{report.files} files: {report.new_articles} new articles,"
            f" {report.new_revisions} new revisions, {report.unchanged} unchanged,"
            f" {len(report.errors)} failed"
        )
    if derived and not as_json:
        click.echo(f"clean HTML and text derived for {derived} revisions")
    if report.errors or not report.files:
        ctx.exit(1)


def _import_warc(ctx: click.Context, path: Path, as_json: bool, no_derive: bool) -> None:
    with open_from_context(ctx) as archive:
        report = archive.import_warc(path)
        derived = 0 if no_derive else archive.derive()
    for problem in report.problems:
        click.echo(f"error: {problem}", err=True)
    if as_json:
        print_json({**asdict(report), "derived": derived})
    elif report.kind == "export":
        click.echo(
            f"{report.records} records: {report.new_articles} new articles, {report.new_revisions} new"
            f" revisions, {report.unchanged} revisions already archived"
        )
    else:
        click.echo(
            f"{report.records} records: {report.feeds} feed captures, {report.pages} page captures stored;"
            f" {report.new_articles} new articles, {report.new_revisions} new revisions, {report.skipped} skipped"
        )
    if derived and not as_json:
        click.echo(f"clean HTML and text derived for {derived} revisions")
    if report.problems:
        ctx.exit(1)


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    required=True,
    help="documents: the original repository layout; jsonl: one JSON article per line;"
    " opml: the subscriptions; warc: a WARC file (kept exchanges and every revision) with a"
    " CDXJ index beside it (FILE.cdxj).",
)
@click.argument("out", required=False, type=click.Path(path_type=Path))
@click.option("--site", help="Export only this site.")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, out: Path | None, site: str | None) -> None:
    """Export the archive to OUT (a folder for documents; a file for warc; a file or stdout
    for jsonl and opml)."""
    with open_from_context(ctx) as archive:
        if fmt == "warc":
            if out is None or str(out) == "-":
                raise click.UsageError("--format warc needs an OUT file (FILE.warc.gz)")
            written = archive.export_warc(out, site=site)
            click.echo(
                f"{written.resources + written.linked} revisions ({written.resources} as resource records),"
                f" {written.copied} kept exchange records: {out}, index {out}.cdxj"
            )
        elif fmt == "documents":
            if out is None:
                raise click.UsageError("--format documents needs an OUT folder")
            report = archive.export_documents(out, site=site)
            for problem in report.renamed:
                click.echo(f"note: {problem.path}: {problem.reason}", err=True)
            click.echo(
                f"{report.articles} articles: {report.written} files written,"
                f" {report.unchanged} unchanged, in {out}"
            )
        elif fmt == "opml":
            data = archive.export_opml()
            if out is None or str(out) == "-":
                click.echo(data.decode("utf-8"), nl=False)
            else:
                out.write_bytes(data)
                click.echo(f"{len(archive.feeds())} feeds written to {out}", err=True)
        elif out is None or str(out) == "-":
            archive.export_jsonl(sys.stdout, site=site)
        else:
            with open(out, "w", encoding="utf-8", newline="\n") as handle:
                count = archive.export_jsonl(handle, site=site)
            click.echo(f"{count} articles written to {out}", err=True)


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def stats_command(ctx: click.Context, as_json: bool) -> None:
    """Show how many sites, feeds, articles and revisions the archive holds."""
    with open_from_context(ctx) as archive:
        stats = archive.stats()
        sites = archive.sites()
    if as_json:
        print_json({**asdict(stats), "site_names": sites})
        return
    click.echo(f"sites:     {stats.sites}")
    click.echo(f"feeds:     {stats.feeds}")
    click.echo(f"articles:  {stats.articles}")
    click.echo(f"revisions: {stats.revisions}")
    click.echo(f"database:  {stats.database_bytes / 1_048_576:.1f} MiB")
    images = dict(stats.images)
    if images:
        click.echo("images:    " + ", ".join(f"{count} {status}" for status, count in sorted(images.items())))
    click.echo(f"media:     {stats.media_files} files, {stats.media_bytes / 1_048_576:.1f} MiB")


@cli.group("media")
def media_group() -> None:
    """The media folder: archived images (see the images setting)."""


@media_group.command("fetch")
@click.option("--budget", type=click.FloatRange(1, 86_400), default=600, show_default=True, help="Seconds to spend at most.")
@click.pass_context
def media_fetch_command(ctx: click.Context, budget: float) -> None:
    """Archive the images that are due now (new revisions', and failed ones to try again)."""
    from .feeds import _images_line

    with open_from_context(ctx) as archive:
        summary = archive.archive_images(budget=budget)
    if summary is None:
        click.echo(
            "this archive keeps no media folder"
            if archive.media is None
            else "no images are kept (the images setting is not archive, for the archive or any feed)"
        )
        return
    click.echo(_images_line(summary))


@media_group.command("prune")
@click.option("--unreferenced", is_flag=True, required=True, help="Remove the files no image refers to (the only kind of pruning).")
@click.pass_context
def media_prune_command(ctx: click.Context, unreferenced: bool) -> None:
    """Remove files from the media folder that nothing refers to."""
    with open_from_context(ctx) as archive:
        files, freed = archive.prune_media()
    click.echo(f"{files} unreferenced files removed ({freed / 1_048_576:.1f} MiB)")


@cli.command("migrate")
@click.option("--to", "target", required=True, metavar="URL|PATH", help="The store to copy into: postgresql://user:pass@host:port/db, or a SQLite file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def migrate_command(ctx: click.Context, target: str, as_json: bool) -> None:
    """Copy this archive into another store (SQLite to PostgreSQL or back): every table with
    its ids, in batches; run it again after an interruption and it goes on. At the end
    every table is counted and hashed on both sides, and the target's search index built.
    The archive itself is not changed."""
    with open_from_context(ctx) as archive:
        def progress(table: str, rows: int) -> None:
            if sys.stderr.isatty():
                click.echo(f"\r{table}: {rows} rows", nl=False, err=True)

        started = time.perf_counter()
        report, verified, indexed = archive.migrate_to(target, progress=progress)
        seconds = time.perf_counter() - started
    if sys.stderr.isatty():
        click.echo("", err=True)
    if as_json:
        print_json(
            {
                "copied": report.copied,
                "already_there": report.present,
                "verified": {table: {"rows": rows, "sha256": digest} for table, (rows, digest) in verified.items()},
                "indexed": indexed,
                "seconds": round(seconds, 3),
            }
        )
        return
    for table, (rows, digest) in verified.items():
        click.echo(f"{table:16} {rows:>9} rows  {report.copied[table]:>9} copied now  sha256 {digest[:16]}…")
    click.echo(f"verified: every table has the same rows on both sides; {indexed} articles indexed ({seconds:.1f} s)")


@cli.command("reindex")
@click.pass_context
def reindex_command(ctx: click.Context) -> None:
    """Drop the search index and build it again from the archive (nothing else changes)."""
    with open_from_context(ctx) as archive:
        started = time.perf_counter()
        count = archive.reindex()
        seconds = time.perf_counter() - started
    click.echo(f"{count} articles indexed in {seconds:.1f} s")


@cli.command("compact")
@click.pass_context
def compact_command(ctx: click.Context) -> None:
    """Pack the long texts an older tidings stored unpacked, and give the space back.

    SQLite only (PostgreSQL compresses long values itself); needs free disk space the size
    of the database while it runs. Nothing is lost: every text reads back the same."""
    with open_from_context(ctx) as archive:
        started = time.perf_counter()
        result = archive.compact()
        seconds = time.perf_counter() - started
    if result is None:
        click.echo("nothing to do: PostgreSQL compresses long values itself")
        return
    packed, before, after = result
    click.echo(
        f"{packed} texts packed in {seconds:.1f} s; the database went from {before / 1e6:.1f} MB to {after / 1e6:.1f} MB"
    )


@cli.command("reclean")
@click.pass_context
def reclean_command(ctx: click.Context) -> None:
    """Derive clean HTML and text again for every revision (after cleaning rules changed).

    The HTML as received is never changed.
    """
    with open_from_context(ctx) as archive:
        started = time.perf_counter()
        count = archive.reclean()
        seconds = time.perf_counter() - started
    click.echo(f"{count} revisions cleaned again in {seconds:.1f} s")


