"""tidings publish: the original layout byte-exact, a static site whose links all resolve,
history feeds whose archive pages never change, incremental and deterministic output, git."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from lxml import etree, html as lxml_html

import tidings
from tidings.model import ArticleState, NewRevision, RevisionSource
from tidings.publish import feeds as history_feeds
from tidings.publish import publish

from .conftest import FIXED_NOW, SAMPLE, tree_bytes, write_repository
from .test_import_export import add_fetched_article, run

ATOM = "{http://www.w3.org/2005/Atom}"
T0 = datetime(2025, 3, 1, 8, tzinfo=timezone.utc)


def build(archive: tidings.Archive, repo: Path) -> dict[str, int]:
    """The sample repository imported, plus fetched articles: Traditional text, an image, an
    edit, a deleted article, and a title that tries to break out of HTML."""
    archive.import_documents(repo)
    ids = {
        "trad": add_fetched_article(archive, "臺灣晨鐘", "https://tw.example/1", "加薩停火協議生效", "<p>雙方同意停火。</p>", T0),
        "image": add_fetched_article(
            archive, "Harbour Gazette", "https://gazette.example/pier", "New pier",
            '<p>The pier.</p><img src="https://gazette.example/pier.jpg" alt="the pier">', T0 + timedelta(days=1),
        ),
        "evil": add_fetched_article(
            archive, "Harbour Gazette", "https://gazette.example/evil", '</title><script>alert(1)</script>',
            '<p onclick="x()">evil <script>alert(2)</script></p>', T0 + timedelta(days=2),
        ),
    }
    store = archive.store
    with store.transaction():
        store.add_revision(ids["image"], NewRevision(FIXED_NOW + timedelta(hours=1), "New pier opens", "<p>The pier opens.</p>", RevisionSource.FEED))
        store.change_state(ids["evil"], ArticleState.DELETED, FIXED_NOW + timedelta(hours=2), {"status": 404})
    archive.derive()
    return ids


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_repository(root, SAMPLE)
    return root


def html_files(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*.html")) if "pagefind" not in p.parts and ".git" not in p.parts]


def local_references(page: Path) -> list[str]:
    """Every link and image reference of a page that is not to another host."""
    tree = lxml_html.fromstring(page.read_bytes())
    found = []
    for element, attribute, link, _ in tree.iterlinks():
        if attribute not in ("href", "src"):
            continue
        scheme = urlsplit(link).scheme
        if scheme in ("http", "https", "mailto", "data") or link.startswith("#"):
            continue
        found.append(link)
    return found


def test_publish_writes_the_layout_byte_exact_and_a_site_whose_links_all_resolve(archive, repo, tmp_path):
    build(archive, repo)
    out = tmp_path / "mirror"
    report = publish(archive, out, search=False)
    assert report.written > 0
    for source in (repo / "articles").rglob("*.md"):
        assert (out / source.relative_to(repo)).read_bytes() == source.read_bytes()
    for name in ("index.html", "search.html", "feed.atom", "feed.json", "robots.txt", ".nojekyll",
                 "subscriptions.opml", "changes.html", "day/index.html", "static/style.css", "README.md"):
        assert (out / name).is_file(), name
    pages = html_files(out)
    assert len(pages) > 15
    for page in pages:
        for link in local_references(page):
            path = unquote(urlsplit(link).path)
            target = (page.parent / path).resolve()
            assert target.is_file(), f"{page.relative_to(out)} links to {link}, which is not in the mirror"
            assert out.resolve() in target.parents


def test_pages_show_the_article_its_versions_and_state_with_no_script(archive, repo, tmp_path):
    ids = build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    page = (out / f"article/{ids['image']}.html").read_text()
    assert "New pier opens" in page and "The pier opens." in page
    assert "diff/" in page  # the two versions are compared
    diff = next((out / "diff").glob(f"{ids['image']}-*.html")).read_text()
    assert "<ins>" in diff or "<del>" in diff
    evil = (out / f"article/{ids['evil']}.html").read_text()
    assert "<script>" not in evil and "onclick" not in evil
    assert "state-deleted" in evil
    for page_path in html_files(out):
        text = page_path.read_text()
        if page_path.name != "search.html":
            assert "<script" not in text, page_path
            assert "script-src 'none'" in text
    # images are links by default, so a reader offline or behind a firewall asks no other host
    old = (out / "article").glob("*.html")
    assert not any("<img" in p.read_text() for p in old)


def test_articles_hand_the_index_their_chinese_as_folded_bigrams(archive, repo, tmp_path):
    ids = build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    page = (out / f"article/{ids['trad']}.html").read_text()
    # the folded (Simplified) bigrams, hidden, inside the indexed element
    hidden = re.search(r"<div hidden>([^<]*)</div>", page)
    assert hidden is not None and hidden.group(1).split() == "tidingsgrams 加萨 萨停 停火 火协 协议 议生 生效 效 双方 方同 同意 意停 停火 火".split()
    assert "data-pagefind-body" in page
    fold = (out / "search-fold.js").read_text()
    assert '"協":"协"' in fold and '"薩":"萨"' in fold


def test_a_second_publish_writes_nothing_and_the_output_is_deterministic(archive, repo, tmp_path):
    build(archive, repo)
    first, second = tmp_path / "one", tmp_path / "two"
    publish(archive, first, search=False)
    again = publish(archive, first, search=False)
    assert again.written == 0 and again.paths == () and again.summary == "nothing changed"
    publish(archive, second, search=False)
    assert tree_bytes(first) == tree_bytes(second)


def test_a_new_article_writes_only_its_page_and_the_pages_that_list_it(archive, repo, tmp_path):
    build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    before = tree_bytes(out)
    new_id = add_fetched_article(archive, "法广", "https://rfi.example/new", "新的文章", "<p>新闻。</p>", T0 + timedelta(days=5))
    archive.derive()
    report = publish(archive, out, search=False)
    after = tree_bytes(out)
    changed = {path for path in after if before.get(path) != after[path]}
    assert set(report.paths) == changed
    assert report.new == (("法广", 1),) and report.edited == ()
    assert report.summary == "1 new article, 0 edited: 法广 1"
    assert f"article/{new_id}.html" in changed
    assert "day/2025-03-06.html" in changed
    pages = {p for p in changed if p.endswith(".html")}
    # the article, its site's pages, its day and the lists of days and sites: nothing else
    assert all(
        p.startswith((f"article/{new_id}", "site/法广/", "day/")) or p in ("index.html",) for p in pages
    ), pages
    assert not any(p.startswith("article/") and p != f"article/{new_id}.html" for p in changed)
    assert len(pages) <= 7  # the day before gains a link to the new day


def test_a_template_change_rerenders_pages_without_calling_them_edits(archive, repo, tmp_path, monkeypatch):
    build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    import tidings.publish as publishing

    monkeypatch.setattr(publishing, "_salt", lambda lang, base: "another look")
    report = publish(archive, out, search=False)
    assert report.new == () and report.edited == ()
    assert publish(archive, out, search=False).written == 0


def test_history_feeds_hold_every_revision_and_full_archive_pages_never_change(archive, repo, tmp_path, monkeypatch):
    monkeypatch.setattr(history_feeds, "PER_ARCHIVE", 3)
    monkeypatch.setattr(history_feeds, "NEWEST", 2)
    build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False, base_url="https://mirror.example/news")
    revisions = {r.id for r in archive.store.iter_revisions()}

    def walk() -> list[str]:
        seen: list[str] = []
        document = etree.parse(str(out / "feed.atom")).getroot()
        while True:
            seen += [e.findtext(f"{ATOM}updated") + e.findtext(f"{ATOM}title") for e in document.iter(f"{ATOM}entry")]
            prev = [l.get("href") for l in document.iter(f"{ATOM}link") if l.get("rel") == "prev-archive"]
            if not prev:
                return seen
            assert prev[0].startswith("https://mirror.example/news/archive/")
            document = etree.parse(str(out / prev[0].removeprefix("https://mirror.example/news/"))).getroot()
            assert document.find("{http://purl.org/syndication/history/1.0}archive") is not None

    assert len(set(walk())) == len(revisions)
    archived = {p.name: p.read_bytes() for p in (out / "archive").glob("*.atom")}
    assert len(archived) == len(revisions) // 3
    for n in range(4):
        add_fetched_article(archive, "法广", f"https://rfi.example/more{n}", f"更多 {n}", "<p>更多。</p>", T0 + timedelta(days=9, hours=n))
    archive.derive()
    publish(archive, out, search=False, base_url="https://mirror.example/news")
    for name, data in archived.items():
        assert (out / "archive" / name).read_bytes() == data, name
    assert len(set(walk())) == len(revisions) + 4
    site_feed = json.loads((out / "site/法广/feed.json").read_text())
    assert site_feed["feed_url"] == "https://mirror.example/news/site/%E6%B3%95%E5%B9%BF/feed.json"
    assert not list((out / "archive").glob("*.json"))
    sitemap = (out / "sitemap.xml").read_text()
    assert "https://mirror.example/news/article/" in sitemap
    assert "Sitemap: https://mirror.example/news/sitemap.xml" in (out / "robots.txt").read_text()


def test_without_a_base_url_feeds_link_relatively_and_there_is_no_sitemap(archive, repo, tmp_path):
    build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    feed = etree.parse(str(out / "site/Harbour Gazette/feed.atom")).getroot()
    assert feed.findtext(f"{ATOM}id").startswith("urn:x-tidings:feed:")
    alternate = [l.get("href") for l in feed.iter(f"{ATOM}link") if l.get("rel") == "alternate"][0]
    assert (out / "site/Harbour Gazette" / unquote(alternate)).resolve() == (out / "site/Harbour Gazette/index.html").resolve()
    assert not (out / "sitemap.xml").exists()


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True).stdout


def test_git_commits_once_per_publish_that_changed_something_and_pushes(archive, repo, tmp_path):
    build(archive, repo)
    out, bare = tmp_path / "mirror", tmp_path / "remote.git"
    subprocess.run(["git", "init", "--bare", "--quiet", str(bare)], check=True)
    first = publish(archive, out, search=False, git=True, remote=str(bare))
    assert first.commit and first.pushed and first.push_error is None
    assert git(out, "rev-list", "--count", "HEAD").strip() == "1"
    nothing = publish(archive, out, search=False, git=True, remote=str(bare))
    assert nothing.commit is None and git(out, "rev-list", "--count", "HEAD").strip() == "1"
    new_id = add_fetched_article(archive, "BBC", "https://bbc.example/1", "新闻", "<p>新闻。</p>", T0 + timedelta(days=3))
    archive.derive()
    second = publish(archive, out, search=False, git=True, remote=str(bare))
    assert git(out, "rev-list", "--count", "HEAD").strip() == "2"
    files = set(git(out, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD").splitlines()) - {""}
    assert files == set(second.paths)
    assert f"article/{new_id}.html" in files
    assert git(out, "log", "-1", "--format=%s").strip() == "1 new article, 0 edited: BBC 1"
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(bare), str(clone)], check=True)
    ours = {k: v for k, v in tree_bytes(out).items() if not k.startswith(".git/")}
    theirs = {k: v for k, v in tree_bytes(clone).items() if not k.startswith(".git/")}
    assert ours == theirs


def test_a_failed_push_keeps_the_commit_and_the_next_publish_pushes_it(archive, repo, tmp_path):
    build(archive, repo)
    out, bare = tmp_path / "mirror", tmp_path / "remote.git"
    report = publish(archive, out, search=False, remote=str(bare))  # no repository there yet
    assert report.commit and not report.pushed and "push failed" in (report.push_error or "")
    subprocess.run(["git", "init", "--bare", "--quiet", str(bare)], check=True)
    again = publish(archive, out, search=False, remote=str(bare))
    assert again.commit is None and again.pushed
    assert git(bare, "rev-parse", "HEAD").strip() == report.commit


def test_cli_publish_reports_and_a_failed_push_exits_1(tmp_path, repo):
    db = tmp_path / "archive.sqlite3"
    assert run(db, "import", str(repo))[0] == 0
    code, out, _ = run(db, "publish", str(tmp_path / "mirror"), "--no-search")
    assert code == 0 and "3 new articles, 0 edited" in out and "index.html" in out
    code, out, _ = run(db, "publish", str(tmp_path / "mirror"), "--no-search")
    assert code == 0 and "nothing new" in out and "0 files written" in out
    code, _, err = run(db, "publish", str(tmp_path / "mirror"), "--no-search", "--push", str(tmp_path / "nowhere"))
    assert code == 1 and "push failed" in err
    code, _, err = run(db, "publish", str(tmp_path / "mirror"), "--site", "nope")
    assert code == 2 and "nope" in err


def test_publish_refuses_a_link_in_the_mirror(archive, repo, tmp_path):
    build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    target = tmp_path / "elsewhere"
    target.mkdir()
    (out / "day").rename(tmp_path / "day-moved")
    (out / "day").symlink_to(target)
    with pytest.raises(tidings.errors.ExportTargetError):
        publish(archive, out, search=False)
    assert list(target.iterdir()) == []


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>山海日报</title><link>https://shanhai.example/</link>
<item><title>停火协议生效</title><link>https://shanhai.example/1</link><guid>https://shanhai.example/1</guid>
<pubDate>Sat, 01 Mar 2025 08:00:00 GMT</pubDate><description>&lt;p&gt;双方同意停火。&lt;/p&gt;</description></item>
<item><title>港口重新开放</title><link>https://shanhai.example/2</link><guid>https://shanhai.example/2</guid>
<pubDate>Sun, 02 Mar 2025 08:00:00 GMT</pubDate><description>&lt;p&gt;港口重新开放。&lt;/p&gt;</description></item>
</channel></rss>
"""


def test_run_publish_commits_what_each_pass_stored(tmp_path):
    import os
    import signal
    import sys
    import time

    db, out, feed = tmp_path / "archive.sqlite3", tmp_path / "mirror", tmp_path / "feed.xml"
    feed.write_text(RSS, "utf-8")
    assert run(db, "add", str(feed), "--site", "山海日报")[0] == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "--db", str(db), "run", "--publish", str(out), "--git"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(list((out / "article").glob("*.html"))) == 2 and (out / ".git").is_dir():
                log = subprocess.run(["git", "-C", str(out), "log", "--format=%s"], capture_output=True, text=True)
                if "2 new articles" in log.stdout:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the mirror was not published and committed within 60 s")
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "2 new articles, 0 edited: 山海日报 2" in stdout
    log = git(out, "log", "--format=%s").splitlines()
    assert log[0] == "2 new articles, 0 edited: 山海日报 2"
    assert "停火协议生效" in (out / "index.html").read_text() or "山海日报" in (out / "index.html").read_text()


def test_pages_rendered_by_worker_processes_are_the_same_bytes(archive, repo, tmp_path, monkeypatch):
    from tidings.publish import workers

    build(archive, repo)
    publish(archive, tmp_path / "here", search=False)
    monkeypatch.setattr(workers, "PARALLEL_FROM", 1)
    monkeypatch.setattr(workers, "BATCH", 2)
    report = publish(archive, tmp_path / "workers", search=False)
    assert report.new and tree_bytes(tmp_path / "here") == tree_bytes(tmp_path / "workers")
    assert {p for p in report.paths if p.startswith(("article/", "articles/"))} == {
        p for p in tree_bytes(tmp_path / "workers") if p.startswith(("article/", "articles/"))
    }
    assert publish(archive, tmp_path / "workers", search=False).written == 0


def test_a_second_publish_into_the_same_folder_at_once_is_refused(archive, repo, tmp_path):
    from tidings.publish.files import Mirror

    build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    holder = Mirror.open(out)
    try:
        with pytest.raises(tidings.errors.ExportTargetError, match="another publish"):
            publish(archive, out, search=False)
    finally:
        holder.close()
    assert publish(archive, out, search=False).written == 0


def test_sites_with_awkward_names_get_pages_whose_links_resolve(archive, tmp_path):
    names = ["50% off / #1?", "新闻 <台>", "..", "A&B \"quoted\""]
    for n, name in enumerate(names):
        add_fetched_article(archive, name, f"https://odd.example/{n}", f"Story {n} <b>bold</b>", "<p>Text.</p>", T0 + timedelta(hours=n))
    archive.derive()
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    for page in html_files(out):
        for link in local_references(page):
            target = (page.parent / unquote(urlsplit(link).path)).resolve()
            assert target.is_file() and out.resolve() in target.parents, (page, link)
    index = (out / "index.html").read_text()
    assert "A&amp;B &#34;quoted&#34;" in index or "A&amp;B &quot;quoted&quot;" in index
    assert "<b>bold</b>" not in (out / "article/1.html").read_text()


def test_files_an_interrupted_publish_left_are_committed_by_the_next(archive, repo, tmp_path):
    build(archive, repo)
    out = tmp_path / "mirror"
    publish(archive, out, search=False, git=True)
    add_fetched_article(archive, "BBC", "https://bbc.example/late", "Late", "<p>Late.</p>", T0 + timedelta(days=4))
    archive.derive()
    publish(archive, out, search=False)  # written, not committed: as a publish killed before its commit
    report = publish(archive, out, search=False, git=True)
    assert report.written == 0 and report.commit is not None
    assert git(out, "log", "-1", "--format=%s").strip() == "files an earlier publish left uncommitted"
    assert git(out, "status", "--porcelain").strip() == ""
