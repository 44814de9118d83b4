"""Importing and exporting archives through the library API and the CLI."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings.document import MAX_FILE_NAME_BYTES, parse_document
from tidings.model import NewRevision, RevisionSource

from .conftest import FIXED_NOW, SAMPLE, document_bytes, tree_bytes, write_repository


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def add_fetched_article(
    archive: tidings.Archive, site: str, url: str, title: str, html: str, published: datetime
) -> int:
    """An article that came from a feed, so no file of the layout names it yet."""
    store = archive.store
    with store.transaction():
        site_id = store.site(site).id
        article = store.add_article(site_id, url, url, FIXED_NOW, published)
        store.add_revision(
            article.id, NewRevision(FIXED_NOW, title, html, RevisionSource.FEED)
        )
    return article.id


def test_round_trip_gives_the_same_bytes_and_names(archive, sample_repo, tmp_path):
    report = archive.import_documents(sample_repo)
    assert (report.files, report.new_articles, report.errors) == (3, 3, ())

    out = tmp_path / "out"
    archive.export_documents(out)

    assert tree_bytes(out / "articles") == tree_bytes(sample_repo / "articles")
    assert sorted((out / "lists").iterdir()) == [
        out / "lists" / "Harbour Gazette.md",
        out / "lists" / "法广.md",
    ]
    readme = (out / "README.md").read_text("utf-8")
    assert "(lists/%E6" not in readme  # CJK stays readable in links
    assert "[法广](lists/法广.md)" in readme
    assert "[Harbour Gazette](lists/Harbour%20Gazette.md)" in readme


def test_import_keeps_titles_links_times_body_and_file_names(archive, sample_repo):
    archive.import_documents(sample_repo)
    articles = {a.url: a for a in archive.articles()}
    ts, title, url, html = SAMPLE["法广"][0]
    article = articles[url]
    assert article.site == "法广"
    assert article.published == datetime.fromtimestamp(ts / 1000, timezone.utc)
    (revision,) = archive.revisions(article.id)
    assert revision.title == title  # the double space is kept
    assert revision.content_html == html
    assert revision.source is RevisionSource.IMPORT
    files = archive.store.document_files("法广")
    assert {(f.file_name, f.file_id) for f in files} == {
        ("1048575_七国外长会议一致主张加沙停火  多国呼吁重振巴以两国共存框架.md", 1048575),
        ("1048574_英国宣布暂停引渡协议 | 禁对港出口武器?.md", 1048574),
    }


def test_import_is_idempotent_and_says_so(tmp_path, sample_repo):
    db = tmp_path / "db.sqlite3"
    code, out, _ = run(db, "import", str(sample_repo))
    assert code == 0 and "3 new articles" in out
    code, out, _ = run(db, "import", str(sample_repo))
    assert code == 0
    assert "nothing new" in out
    code, out, _ = run(db, "stats", "--json")
    stats = json.loads(out)
    assert (stats["articles"], stats["revisions"], stats["sites"]) == (3, 3, 2)


def test_a_changed_file_becomes_a_new_revision_and_exports_its_new_bytes(
    archive, sample_repo, tmp_path
):
    archive.import_documents(sample_repo)
    path = next((sample_repo / "articles" / "Harbour Gazette").iterdir())
    changed = path.read_bytes().replace(b"Monday", b"Tuesday")
    path.write_bytes(changed)

    report = archive.import_documents(sample_repo)
    assert (report.new_articles, report.new_revisions, report.unchanged) == (0, 1, 2)
    (article,) = archive.articles("Harbour Gazette")
    assert [r.content_html for r in archive.revisions(article.id)] == [
        "<p>The night ferry returns on Monday.</p>",
        "<p>The night ferry returns on Tuesday.</p>",
    ]
    out = tmp_path / "out"
    archive.export_documents(out)
    assert (out / "articles" / "Harbour Gazette" / path.name).read_bytes() == changed


def test_unreadable_files_are_reported_and_the_rest_imported(tmp_path, sample_repo):
    folder = sample_repo / "articles" / "法广"
    bad = {
        "1000_empty.md": b"",
        "1001_binary.md": bytes(range(256)) * 4,
        "1002_gbk.md": document_bytes(1, "标题", "https://x.example/", "<p>正文</p>")
        .decode()
        .encode("gbk"),
        "1003_truncated.md": document_bytes(1, "标题", "https://x.example/a", "<p>正文</p>")[:30],
        "1004_no-link.md": b"<!--1-->\nno link here\n------\n\n<p>x</p>\n",
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)

    db = tmp_path / "db.sqlite3"
    code, out, err = run(db, "import", str(sample_repo))
    assert code == 1
    assert "3 new articles" in out and "5 failed" in out
    for name in bad:
        assert str(folder / name) in err
    assert "empty file" in err
    assert "binary file" in err
    assert "not UTF-8" in err
    assert "truncated" in err
    assert "expected [title](url)" in err
    code, out, _ = run(db, "stats", "--json")
    assert json.loads(out)["articles"] == 3


def test_a_folder_of_documents_and_a_single_file_import(archive, tmp_path):
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "000_788d6dd5afb79190.txt").write_bytes(
        document_bytes(1699434902000, "七国外长会议", "https://www.rfi.fr/cn/a", "<p>正文</p>")
    )
    (folder / "notes.bin").write_bytes(b"\x00\x01")  # not a document name: ignored
    report = archive.import_documents(folder)
    assert (report.files, report.new_articles, report.errors) == (1, 1, ())
    assert archive.sites() == ["loose"]

    single = tmp_path / "one.md"
    single.write_bytes(document_bytes(1, "One", "https://one.example/", "<p>1</p>"))
    report = archive.import_documents(single, site="单篇")
    assert report.new_articles == 1
    assert "单篇" in archive.sites()


def test_a_file_imported_under_another_name_exports_with_a_layout_name(archive, tmp_path):
    folder = tmp_path / "loose"
    folder.mkdir()
    data = document_bytes(1699434902000, "七国外长会议", "https://www.rfi.fr/cn/a", "<p>正文</p>")
    (folder / "000_788d6dd5afb79190.txt").write_bytes(data)
    archive.import_documents(folder, site="法广")
    out = tmp_path / "out"
    archive.export_documents(out)
    assert tree_bytes(out / "articles") == {"法广/1048575_七国外长会议.md": data}
    archive.export_documents(out)  # stable: the same name the second time
    assert list(tree_bytes(out / "articles")) == ["法广/1048575_七国外长会议.md"]


def test_new_articles_are_numbered_below_the_lowest_id_newest_lowest(archive, sample_repo, tmp_path):
    archive.import_documents(sample_repo)
    day = 86_400
    for n in range(3):
        add_fetched_article(
            archive,
            "法广",
            f"https://www.rfi.fr/cn/new-{n}",
            f"新文章 {n}",
            f"<p>第{n}篇\n  正文</p>",
            datetime.fromtimestamp(1_700_000_000 + n * day, timezone.utc),
        )
    out = tmp_path / "out"
    archive.export_documents(out)
    names = sorted(p.name for p in (out / "articles" / "法广").iterdir())
    assert names[:3] == ["1048571_新文章 2.md", "1048572_新文章 1.md", "1048573_新文章 0.md"]
    doc = parse_document((out / "articles" / "法广" / "1048571_新文章 2.md").read_bytes())
    assert doc.html == "<p>第2篇 正文</p>"
    assert doc.ts == (1_700_000_000 + 2 * day) * 1000
    listing = (out / "lists" / "法广.md").read_text("utf-8")
    assert listing.startswith("法广\n------\n\n11-17 [新文章 2](/articles/法广/1048571_新文章%202.md)")
    assert listing.endswith("\n\n[查看更多](/articles/法广)\n")


def test_export_continues_an_existing_repository(archive, sample_repo, tmp_path):
    archive.import_documents(sample_repo)
    out = tmp_path / "existing"
    # The destination already has a repository with other articles, one of them under
    # a name our archive also uses, and an older article at a lower id.
    taken = "1048575_Night ferry returns [update].md"
    write_repository(
        out,
        {
            "Harbour Gazette": [
                (1, "Someone else's story", "https://other.example/story", "<p>theirs</p>")
            ]
        },
    )
    (out / "articles" / "Harbour Gazette" / "1048575_Someone else's story.md").rename(
        out / "articles" / "Harbour Gazette" / taken
    )
    foreign_bytes = (out / "articles" / "Harbour Gazette" / taken).read_bytes()
    (out / "articles" / "Harbour Gazette" / "900000_Older.md").write_bytes(
        document_bytes(2, "Older", "https://other.example/older", "<p>older</p>")
    )
    (out / "README.md").write_text("# My mirror\n\nHand-written.\n", "utf-8")

    report = archive.export_documents(out)
    folder = out / "articles" / "Harbour Gazette"
    assert (folder / taken).read_bytes() == foreign_bytes  # never overwritten
    assert len(report.renamed) == 1
    ours = folder / "899999_Night ferry returns [update].md"
    assert parse_document(ours.read_bytes()).url == "https://gazette.example/night-ferry"
    readme = (out / "README.md").read_text("utf-8")
    assert readme.startswith("# My mirror\n\nHand-written.\n")
    assert "[法广](lists/法广.md)" in readme

    # A second export rewrites nothing.
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    for path in stamps:
        os.utime(path, ns=(1, 1))
    report = archive.export_documents(out)
    assert report.written == 0
    assert all(p.stat().st_mtime_ns == 1 for p in stamps)


def test_export_reuses_the_file_an_existing_repository_has_for_an_article(archive, tmp_path):
    out = tmp_path / "existing"
    write_repository(
        out, {"法广": [(1, "旧标题", "https://www.rfi.fr/cn/same", "<p>旧</p>")]}
    )
    add_fetched_article(
        archive, "法广", "https://www.rfi.fr/cn/same", "新标题", "<p>新</p>", FIXED_NOW
    )
    archive.export_documents(out)
    (path,) = (out / "articles" / "法广").iterdir()
    assert path.name == "1048575_旧标题.md"
    assert parse_document(path.read_bytes()).html == "<p>新</p>"


@pytest.mark.parametrize(
    "title",
    [
        "a/b/../../../escape",
        "..",
        "控制\x00字符\x07与\x1b[31m颜色",
        "停" * 300,
        'win:dows*?"<>|\\name',
        "   ",
    ],
)
def test_file_names_are_safe_whatever_the_title(archive, tmp_path, title):
    add_fetched_article(archive, "../../site/..", "https://x.example/a", title, "<p>x</p>", FIXED_NOW)
    out = tmp_path / "out"
    archive.export_documents(out)
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".md"]
    assert all(out in p.parents for p in files)
    (article_file,) = [p for p in files if p.parent.parent == out / "articles"]
    name = article_file.name
    assert len(name.encode()) <= MAX_FILE_NAME_BYTES
    assert not set(name) & set('/\\:*?"<>|') and all(ord(c) >= 32 for c in name)
    # A site name that cleaning changes gets a folder of its own: the cleaned name and a digest.
    assert re.fullmatch(r"site~[0-9a-f]{8}", article_file.parent.name)
    assert parse_document(article_file.read_bytes()).html == "<p>x</p>"


def test_export_refuses_a_file_as_destination(archive, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(tidings.ExportTargetError):
        archive.export_documents(target)
    code, _, err = run(tmp_path / "db.sqlite3", "export", "--format", "documents", str(target))
    assert code == 2 and "is not a folder" in err


def test_export_never_writes_through_a_symlink(archive, sample_repo, tmp_path):
    archive.import_documents(sample_repo)
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    (out / "articles").mkdir(parents=True)
    (out / "articles" / "法广").symlink_to(outside)
    with pytest.raises(tidings.ExportTargetError):
        archive.export_documents(out)
    assert list(outside.iterdir()) == []


def test_jsonl_export(tmp_path, sample_repo):
    db = tmp_path / "db.sqlite3"
    run(db, "import", str(sample_repo))
    code, out, _ = run(db, "export", "--format", "jsonl")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 3
    by_url = {line["url"]: line for line in lines}
    ts, title, url, html = SAMPLE["法广"][1]
    record = by_url[url]
    assert record["site"] == "法广"
    assert record["title"] == title
    assert record["state"] == "present"
    assert record["published"] == "2023-11-09T09:15:02Z"
    assert record["files"] == [{"name": "1048574_英国宣布暂停引渡协议 | 禁对港出口武器?.md", "id": 1048574}]
    (revision,) = record["revisions"]
    assert revision["content_html"] == html  # exactly, stray \r included
    assert revision["title"] == title and revision["seen"].endswith("Z")

    target = tmp_path / "all.jsonl"
    code, _, err = run(db, "export", "--format", "jsonl", str(target))
    assert code == 0 and "3 articles" in err
    assert target.read_text("utf-8") == out


def test_stats_text(tmp_path, sample_repo):
    db = tmp_path / "db.sqlite3"
    run(db, "import", str(sample_repo))
    code, out, _ = run(db, "stats")
    assert code == 0
    assert "articles:  3" in out and "revisions: 3" in out and "sites:     2" in out


def test_database_from_environment(tmp_path, sample_repo, monkeypatch):
    db = tmp_path / "env.sqlite3"
    monkeypatch.setenv("TIDINGS_DB", str(db))
    result = CliRunner().invoke(cli, ["import", str(sample_repo)])
    assert result.exit_code == 0
    assert db.exists()
    assert tidings.default_database_path() == db


def test_a_database_that_is_not_one_is_a_clear_error(tmp_path):
    db = tmp_path / "not.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    code, _, err = run(db, "stats")
    assert code == 1
    assert err.startswith("error:") and "Traceback" not in err
