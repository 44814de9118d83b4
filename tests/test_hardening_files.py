"""The files an export writes and an import reads, against hostile folders.

Every test works on a real folder: links planted in an export destination,
sites whose names clean to the same folder name, and imports of trees that
hold links, FIFOs and devices. Cases that would hang or exhaust memory on a
defective build run the CLI in a child process bounded in time and memory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings import document
from tidings.document import MAX_FILE_NAME_BYTES, safe_path_component
from tidings.model import NewRevision, RevisionSource

from .conftest import FIXED_NOW, document_bytes, tree_bytes, write_repository


WINDOWS_RESERVED = re.compile(
    r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$) *(\..*)?",
    re.IGNORECASE | re.DOTALL,
)
INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Cs"}


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _bounded() -> None:
    import resource

    limit = 2 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_bounded(db: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process with 2 GiB of memory and a time limit."""
    command = [sys.executable, "-m", "tidings", "--db", str(db), *args]
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, preexec_fn=_bounded
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(args)} did not finish within {timeout} s")


def add_article(archive: tidings.Archive, site: str, url: str, title: str, html: str) -> None:
    store = archive.store
    with store.transaction():
        article = store.add_article(store.site(site).id, url, url, FIXED_NOW, FIXED_NOW)
        store.add_revision(article.id, NewRevision(FIXED_NOW, title, html, RevisionSource.FEED))


def snapshot(root: Path) -> dict[str, str | bytes]:
    """Every entry under root, links not followed: a link's target, a file's bytes."""
    found: dict[str, str | bytes] = {}
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            path = Path(directory, name)
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = "-> " + os.readlink(path)
            elif path.is_dir():
                found[key] = "folder"
            else:
                found[key] = path.read_bytes()
    return found


def assert_portable(name: str) -> None:
    """A file or folder name that every common system can create and that hides nothing."""
    assert name not in ("", ".", ".."), name
    assert not set(name) & set('/\\:*?"<>|'), name
    assert all(unicodedata.category(c) not in INVISIBLE for c in name), ascii(name)
    assert WINDOWS_RESERVED.fullmatch(name) is None, name
    assert not name.endswith((".", " ")), name
    assert len(name.encode("utf-8")) <= MAX_FILE_NAME_BYTES, name


@pytest.fixture
def mirror(archive: tidings.Archive, sample_repo: Path, tmp_path: Path) -> Path:
    """An archive with the sample repository imported, and an empty destination folder."""
    archive.import_documents(sample_repo)
    out = tmp_path / "out"
    out.mkdir()
    return out


# --------------------------------------------------------------------------- export: links


def test_export_never_writes_through_a_link_at_a_temporary_name(archive, mirror, tmp_path):
    archive.export_documents(mirror)
    # A new article in a new site: the export writes a document, a list and the README.
    add_article(archive, "新站", "https://new.example/a", "新文章", "<p>新</p>")
    add_article(archive, "法广", "https://www.rfi.fr/cn/new", "又一篇", "<p>又</p>")
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched", "utf-8")
    planted = [
        mirror / ".README.md.tidings-tmp",
        mirror / "lists" / ".法广.md.tidings-tmp",
        mirror / "articles" / "法广" / ".1048573_又一篇.md.tidings-tmp",
    ]
    for path in planted:
        path.symlink_to(victim)

    report = archive.export_documents(mirror)

    assert report.written == 5  # two documents, two lists, the README
    assert victim.read_text("utf-8") == "untouched"
    for path in planted:
        assert os.readlink(path) == str(victim)  # left as it was
    assert not (mirror / "README.md").is_symlink()
    leftovers = [p for p in mirror.rglob("*.tidings-tmp") if p not in planted]
    assert leftovers == []


@pytest.mark.parametrize("linked", ["lists", "articles", "articles/法广"])
def test_export_refuses_a_linked_folder_before_creating_anything(archive, mirror, tmp_path, linked):
    outside = tmp_path / "outside"
    outside.mkdir()
    (mirror / linked).parent.mkdir(parents=True, exist_ok=True)
    (mirror / linked).symlink_to(outside)
    before = snapshot(mirror)

    with pytest.raises(tidings.ExportTargetError, match=re.escape(str(mirror.resolve() / linked))):
        archive.export_documents(mirror)

    assert list(outside.iterdir()) == []
    assert snapshot(mirror) == before


def test_export_refuses_a_linked_readme_and_never_reads_it(archive, mirror, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("# Private notes\n\nSECRET-TEXT\n", "utf-8")
    (mirror / "README.md").symlink_to(secret)
    before = snapshot(mirror)

    code, _, err = run(tmp_path / "archive.sqlite3", "export", "--format", "documents", str(mirror))

    assert code == 2
    assert str(mirror.resolve() / "README.md") in err and "symbolic link" in err
    assert "SECRET-TEXT" not in err
    assert snapshot(mirror) == before
    assert secret.read_text("utf-8") == "# Private notes\n\nSECRET-TEXT\n"


def test_export_refuses_a_linked_document_in_a_site_folder(archive, mirror, tmp_path):
    archive.export_documents(mirror)
    outside = tmp_path / "outside.md"
    outside.write_bytes(document_bytes(1, "Outside", "https://outside.example/", "<p>o</p>"))
    link = mirror / "articles" / "法广" / "1048000_elsewhere.md"
    link.symlink_to(outside)
    add_article(archive, "法广", "https://www.rfi.fr/cn/new", "新文章", "<p>新</p>")
    before = snapshot(mirror)

    with pytest.raises(tidings.ExportTargetError, match=re.escape(link.name)):
        archive.export_documents(mirror)

    assert snapshot(mirror) == before
    assert outside.read_bytes().startswith(b"<!--1-->\n[Outside]")


def test_export_refuses_a_fifo_in_a_site_folder_without_blocking(tmp_path, sample_repo):
    db = tmp_path / "db.sqlite3"
    assert run(db, "import", str(sample_repo), "--no-derive")[0] == 0
    out = tmp_path / "out"
    assert run(db, "export", "--format", "documents", str(out))[0] == 0
    fifo = out / "articles" / "法广" / "1000000_fifo.md"
    os.mkfifo(fifo)

    done = run_bounded(db, "export", "--format", "documents", str(out), timeout=30)

    assert done.returncode == 2, done.stderr
    assert str(fifo.resolve()) in done.stderr and "not a regular file" in done.stderr


def test_export_into_a_destination_that_is_itself_a_link(archive, mirror, tmp_path):
    # The folder the user names is resolved once; only what is under it must not be a link.
    named = tmp_path / "named"
    named.symlink_to(mirror)
    report = archive.export_documents(named)
    assert report.written == 6
    assert (mirror / "articles" / "法广").is_dir() and named.is_symlink()


# --------------------------------------------------------------------------- export: names

CLASHING = [
    "News/World",
    "News:World",
    "NewsWorld",
    "News|World?",
    ".",
    "..",
    " ",
    "...",
    "CON",
    "con.txt",
    "Aux",
    "COM1",
    "lpt9.md",
    "NUL ",
    "法广",
    "法广.",
    " 法广",
    "abc\u202egpj",
    "a\u200bb",
    "ab",
    "NewsWorld~3f2a9b1c",
]


def test_sites_whose_names_clean_alike_keep_folders_of_their_own(archive, tmp_path):
    for n, site in enumerate(CLASHING):
        # The same link everywhere: the exporter reuses a file by link within a folder.
        add_article(archive, site, "https://same.example/story", f"Story {n}", f"<p>{n}</p>")
    out = tmp_path / "out"
    archive.export_documents(out)

    folders = sorted((out / "articles").iterdir())
    assert len(folders) == len(CLASHING)
    for folder in folders:
        assert_portable(folder.name)
        (doc_file,) = folder.iterdir()
        assert_portable(doc_file.name)
    assert len(list((out / "lists").iterdir())) == len(CLASHING)
    for listing in (out / "lists").iterdir():
        assert_portable(listing.name)
    assert (out / "articles" / "法广").is_dir()  # a name that is already clean stays as it is
    assert (out / "articles" / "NewsWorld").is_dir()
    readme = (out / "README.md").read_text("utf-8")
    assert len(set(re.findall(r"\]\((lists/[^)]*)\)", readme))) == len(CLASHING)

    with tidings.open_archive(tmp_path / "again.sqlite3", clock=lambda: FIXED_NOW) as again:
        report = again.import_documents(out)
        assert report.errors == ()
        assert sorted(again.sites()) == sorted(CLASHING)
        for article in again.articles():
            (revision,) = again.revisions(article.id)
            assert CLASHING[int(revision.content_html[3:-4])] == article.site
        again.export_documents(tmp_path / "out2")
    assert tree_bytes(tmp_path / "out2") == tree_bytes(out)


def test_a_site_folder_name_is_stable_and_marks_what_it_changed():
    assert document.site_folder_name("法广") == "法广"
    assert document.site_folder_name("Harbour Gazette") == "Harbour Gazette"
    hashed = document.site_folder_name("News/World")
    assert re.fullmatch(r"NewsWorld~[0-9a-f]{8}", hashed)
    assert document.site_folder_name("News/World") == hashed
    assert document.site_folder_name(".").startswith("site~")
    assert len(document.site_folder_name("停" * 300).encode()) + len(".md") <= MAX_FILE_NAME_BYTES


def test_two_sites_whose_folder_digests_collide_are_refused_not_merged(archive, tmp_path):
    # Found by search: both clean to "x" and their SHA-256 digests share the first 8 hex digits.
    first, second = "x/*:**/", "x*:>|?|"
    assert document.site_folder_name(first) == document.site_folder_name(second)
    add_article(archive, first, "https://x.example/1", "One", "<p>1</p>")
    add_article(archive, second, "https://x.example/2", "Two", "<p>2</p>")
    out = tmp_path / "out"
    with pytest.raises(tidings.ExportTargetError, match="would share the folder"):
        archive.export_documents(out)
    assert not out.exists()


@pytest.mark.parametrize(
    "title",
    [
        "invoice\u202egnp.exe",
        "bidi\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069marks",
        "zero\u200bwidth\u2060joiner\ufeff",
        "soft\u00adhyphen\u2028line",
    ],
)
def test_file_names_carry_no_bidi_control_or_invisible_character(archive, tmp_path, title):
    add_article(archive, "法广", "https://x.example/a", title, "<p>x</p>")
    out = tmp_path / "out"
    archive.export_documents(out)
    (doc_file,) = (out / "articles" / "法广").iterdir()
    assert_portable(doc_file.name)
    assert doc_file.name.startswith("1048575_")


@pytest.mark.parametrize(
    "name",
    ["CON", "con", "Nul.txt", "aux.tar.gz", "COM1", "com9.md", "LPT1", "lpt9", "PRN ", "COM¹"],
)
def test_windows_device_names_never_become_names(name):
    assert_portable(safe_path_component(name))
    assert_portable(document.site_folder_name(name))
    assert_portable(document.site_folder_name(name) + ".md")
    assert safe_path_component(safe_path_component(name)) == safe_path_component(name)


def test_a_repository_of_the_original_layout_still_round_trips(archive, tmp_path):
    repo = tmp_path / "repo"
    write_repository(
        repo,
        {
            "德国之声": [(1, "德国最晚2038年弃煤 环保主义者: 太晚了", "https://dw.example/a", "<p>a</p>")],
            "中国数字时代": [(2, "常识传播局 | 中国开启全球征税时代", "https://cdt.example/b", "<p>b</p>")],
        },
    )
    archive.import_documents(repo)
    out = tmp_path / "out"
    archive.export_documents(out)
    assert tree_bytes(out / "articles") == tree_bytes(repo / "articles")


# --------------------------------------------------------------------------- import


def test_import_skips_links_to_files_and_never_quotes_their_content(archive, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    inside = document_bytes(1, "Inside", "https://in.example/", "<p>in</p>")
    (tree / "inside.md").write_bytes(inside)
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_bytes(document_bytes(2, "Outside", "https://out.example/", "<p>out</p>"))
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n", "utf-8")
    (tree / "linked.md").symlink_to(elsewhere)
    (tree / "passwd.md").symlink_to(passwd)
    (tree / "dangling.md").symlink_to(tmp_path / "nothing-here")

    report = archive.import_documents(tree)

    assert [a.url for a in archive.articles()] == ["https://in.example/"]
    reasons = {Path(p.path).name: p.reason for p in report.errors}
    assert set(reasons) == {"linked.md", "passwd.md", "dangling.md"}
    assert all("symbolic link" in reason for reason in reasons.values())
    assert not any("root:" in r or "Outside" in r for r in reasons.values())


def test_import_follows_no_link_to_a_folder(archive, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    write_repository(elsewhere, {"外站": [(1, "Outside", "https://out.example/", "<p>out</p>")]})
    repo = tmp_path / "repo"
    write_repository(repo, {"法广": [(2, "Inside", "https://in.example/", "<p>in</p>")]})
    (repo / "articles" / "外站").symlink_to(elsewhere / "articles" / "外站")

    report = archive.import_documents(repo)

    assert archive.sites() == ["法广"]
    assert [Path(p.path).name for p in report.errors] == ["外站"]
    assert "symbolic link" in report.errors[0].reason

    # A repository whose articles folder is a link is not read through it either.
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "articles").symlink_to(elsewhere / "articles")
    report = archive.import_documents(linked)
    assert archive.sites() == ["法广"]
    assert [Path(p.path).name for p in report.errors] == ["articles"]


def test_import_neither_blocks_on_a_fifo_nor_reads_a_device(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "good.md").write_bytes(document_bytes(1, "Good", "https://good.example/", "<p>g</p>"))
    os.mkfifo(tree / "fifo.md")
    (tree / "zero.md").symlink_to("/dev/zero")
    db = tmp_path / "db.sqlite3"

    done = run_bounded(db, "import", str(tree), "--no-derive", "--json")

    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert (report["files"], report["new_articles"]) == (3, 1)
    reasons = {Path(e["path"]).name: e["reason"] for e in report["errors"]}
    assert set(reasons) == {"fifo.md", "zero.md"}
    assert "not a regular file" in reasons["fifo.md"]
    assert "symbolic link" in reasons["zero.md"]


def test_import_of_a_device_named_as_path_is_refused_quickly(tmp_path):
    link = tmp_path / "zero.md"
    link.symlink_to("/dev/zero")  # the user's own argument is followed, once
    done = run_bounded(tmp_path / "db.sqlite3", "import", str(link), "--no-derive", timeout=30)
    assert done.returncode == 1
    assert f"{link}: not a regular file" in done.stderr


def test_import_reads_no_more_than_the_limit_whatever_stat_says(archive, monkeypatch):
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0  # the premise: stat says 0 bytes, the file holds more
    monkeypatch.setattr("tidings.importing.MAX_DOCUMENT_BYTES", 64)
    report = archive.import_documents(status, site="proc")
    (problem,) = report.errors
    assert "too large" in problem.reason and "Name:" not in problem.reason


def test_errors_never_quote_a_file_that_is_not_a_document(archive, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "notes.md").write_text("password: hunter2\nmore notes\n", "utf-8")
    (tree / "post.md").write_text("---\ntitle: x\n---\nsecret-line\n", "utf-8")
    (tree / "broken.md").write_bytes(b"<!--1-->\nno link here\n------\n\n<p>x</p>\n")

    report = archive.import_documents(tree)

    reasons = {Path(p.path).name: p.reason for p in report.errors}
    assert "hunter2" not in reasons["notes.md"] and "not an archive document" in reasons["notes.md"]
    assert "secret-line" not in reasons["post.md"]
    # A file that starts as a document is quoted where it goes wrong, to help mend it.
    assert "expected [title](url), found 'no link here'" in reasons["broken.md"]


def test_an_import_resolves_a_linked_path_once(archive, sample_repo, tmp_path):
    named = tmp_path / "named"
    named.symlink_to(sample_repo)
    report = archive.import_documents(named)
    assert (report.files, report.new_articles, report.errors) == (3, 3, ())


def test_import_does_not_take_a_site_name_from_a_linked_list(archive, tmp_path):
    add_article(archive, "News/World", "https://n.example/a", "A", "<p>a</p>")
    out = tmp_path / "out"
    archive.export_documents(out)
    folder = document.site_folder_name("News/World")
    listing = out / "lists" / f"{folder}.md"
    kept = tmp_path / "kept.md"
    listing.rename(kept)
    listing.symlink_to(kept)
    with tidings.open_archive(tmp_path / "again.sqlite3") as again:
        again.import_documents(out)
        assert again.sites() == [folder]


def test_site_option_and_progress_still_work(archive, tmp_path):
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    (tree / "b").mkdir()
    for n, sub in enumerate(["a", "a", "b"]):
        (tree / sub / f"{n}.md").write_bytes(
            document_bytes(n, f"T{n}", f"https://t.example/{n}", f"<p>{n}</p>")
        )
    (tree / "b" / "link.md").symlink_to(tree / "a" / "0.md")
    calls: list[tuple[int, int]] = []

    report = archive.import_documents(tree, site="山海日报", progress=lambda d, t: calls.append((d, t)))

    assert archive.sites() == ["山海日报"]
    assert report.new_articles == 3 and len(report.errors) == 1
    assert calls and calls[-1] == (report.files, report.files) == (4, 4)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_an_imported_file_name_with_a_bidi_control_is_exported_under_a_safe_name(archive, tmp_path):
    repo = tmp_path / "repo"
    folder = repo / "articles" / "法广"
    folder.mkdir(parents=True)
    data = document_bytes(1, "invoice", "https://x.example/a", "<p>x</p>")
    (folder / "1048575_invoice\u202egnp.exe.md").write_bytes(data)
    archive.import_documents(repo)
    out = tmp_path / "out"

    first = archive.export_documents(out)
    second = archive.export_documents(out)

    (doc_file,) = (out / "articles" / "法广").iterdir()
    assert_portable(doc_file.name)
    assert doc_file.read_bytes() == data
    reason = f"not a safe file name; the article is in {doc_file.name}"
    assert [p.reason for p in first.renamed] == [reason]
    assert second.written == 0 and len(second.renamed) == 1
