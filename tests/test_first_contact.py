"""What a new user meets first: honest exit codes, clear one-line errors, a demo that can
run twice, settings from a file, the environment and flags."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tidings.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def run(db: Path | None, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    prefix = ["--db", str(db)] if db is not None else []
    result = CliRunner().invoke(cli, [*prefix, *args], catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_rss(path: Path, title: str | None, items: int = 1) -> None:
    head = f"<title>{title}</title>" if title is not None else ""
    body = "".join(
        f"<item><title>Item {i}</title><link>https://local.example/{i}</link></item>" for i in range(items)
    )
    path.write_text(f'<rss version="2.0"><channel>{head}{body}</channel></rss>', "utf-8")


def test_update_exits_1_when_a_feed_fails(tmp_path):
    db = tmp_path / "db.sqlite3"
    good = tmp_path / "good.xml"
    write_rss(good, "Good")
    assert run(db, "add", str(good))[0] == 0
    assert run(db, "add", f"http://127.0.0.1:{closed_port()}/feed.xml")[0] == 0
    code, out, err = run(db, "update")
    assert code == 1
    assert "1 failed" in out
    assert "1 feed failed; exit status 1" in err
    # The URL is named once on the failure line.
    failure = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert len(failure) == 1 and failure[0].count("127.0.0.1") == 1
    # --json keeps the figures and the same exit status.
    code, out, _ = run(db, "update", "--all", "--json")
    figures = json.loads(out)
    assert code == 1 and figures["failed"] == 1 and figures["fetched"] + figures["not_modified"] == 1


def test_update_exits_0_when_every_feed_worked(tmp_path):
    db = tmp_path / "db.sqlite3"
    feed = tmp_path / "good.xml"
    write_rss(feed, "Good")
    run(db, "add", str(feed))
    code, out, _ = run(db, "update")
    assert code == 0 and "1 feed: 1 fetched" in out and "1 new article," in out


def test_add_refuses_what_can_never_be_fetched(tmp_path):
    db = tmp_path / "db.sqlite3"
    for given in ("/nonexistent/x.xml", "not a url at all", "ftp://example.com/feed.xml", str(tmp_path)):
        code, out, err = run(db, "add", given)
        assert code == 2, given
        assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert "no such file" in run(db, "add", "/nonexistent/x.xml")[2]
    assert "neither an http(s) URL nor an existing file" in run(db, "add", "not a url at all")[2]
    code, out, _ = run(db, "feeds", "--json")
    assert json.loads(out) == []
    # --no-check subscribes to a local feed that will appear later.
    code, out, _ = run(db, "add", "--no-check", str(tmp_path / "later.xml"))
    assert code == 0 and "later" in out


def test_a_local_feed_is_named_after_its_title_else_its_file(tmp_path):
    db = tmp_path / "db.sqlite3"
    titled, untitled = tmp_path / "a.xml", tmp_path / "morning-news.xml"
    write_rss(titled, "  山海日报\n 晨报 ")
    write_rss(untitled, None)
    run(db, "add", str(titled))
    run(db, "add", str(untitled))
    sites = {Path(f["url"]).name: f["site"] for f in json.loads(run(db, "feeds", "--json")[1])}
    assert sites == {"a.xml": "山海日报 晨报", "morning-news.xml": "morning-news"}


def test_feeds_table_shows_titles_never_fetched_and_counts(tmp_path):
    db = tmp_path / "db.sqlite3"
    feed = tmp_path / "one.xml"
    write_rss(feed, "One Daily", items=1)
    run(db, "add", str(feed), "--site", "Ones")
    _, out, _ = run(db, "feeds")
    assert "One Daily" not in out  # not fetched yet: no title known
    assert "never fetched" in out and " ok" not in out
    run(db, "update")
    _, out, _ = run(db, "feeds")
    first = out.splitlines()[0]
    assert "One Daily" in first and "site: Ones" in out
    assert "1 article;" in out and "1 articles" not in out


def test_filters_that_can_find_nothing_say_so(tmp_path, sample_repo):
    db = tmp_path / "db.sqlite3"
    assert run(db, "import", str(sample_repo))[0] == 0
    code, out, err = run(db, "export", "--format", "jsonl", "--site", "nosuchsite")
    assert code == 2 and out == "" and "no site named 'nosuchsite'" in err
    code, _, err = run(db, "export", "--format", "jsonl", "--site", "法")
    assert code == 2 and "did you mean '法广'" in err
    code, _, err = run(db, "export", "--format", "documents", str(tmp_path / "out"), "--site", "nosuch")
    assert code == 2 and not (tmp_path / "out").exists()
    code, _, err = run(db, "search", "site:")
    assert code == 2 and "site: needs a value" in err
    code, _, err = run(db, "search", "停火", "site:nosuch")
    assert code == 2 and "no site named 'nosuch'" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(db, "import", str(empty))
    assert code == 1 and "no documents found" in err


def test_serve_on_a_busy_port_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tidings", "--db", str(tmp_path / "db.sqlite3"), "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"error: port {port} is in use; pick another with --port\n"


def test_opml_export_keeps_interval_and_rules(tmp_path):
    db, other = tmp_path / "db.sqlite3", tmp_path / "other.sqlite3"
    run(db, "add", "https://example.com/feed.xml", "--interval", "30", "--keep-title", "停火|ceasefire",
        "--block-category", "广告", "--full-text", "never", "--no-recheck")
    opml = tmp_path / "subs.opml"
    assert run(db, "export", "--format", "opml", str(opml))[0] == 0
    assert run(other, "import-opml", str(opml))[0] == 0
    (feed,) = json.loads(run(other, "feeds", "--json")[1])
    assert feed["interval_minutes"] == 30
    assert feed["options"]["keep_title"] == "停火|ceasefire"
    assert feed["options"]["block_category"] == "广告"
    assert feed["options"]["full_text"] == "never"
    assert feed["options"]["recheck"] is False


def test_settings_come_from_flags_then_environment_then_file(tmp_path):
    config = tmp_path / "tidings.toml"
    config.write_text('database = "from-file.sqlite3"\n[serve]\nport = 8111\n', "utf-8")
    code, out, _ = run(None, "--config", str(config), "config", "--json")
    settings = json.loads(out)
    assert code == 0
    assert settings["database"]["value"] == str(tmp_path / "from-file.sqlite3")
    assert settings["database"]["source"] == f"file:{config}"
    assert settings["port"]["value"] == 8111 if "port" in settings else settings["serve.port"]["value"] == 8111
    env = {"TIDINGS_DB": str(tmp_path / "from-env.sqlite3")}
    settings = json.loads(run(None, "--config", str(config), "config", "--json", env=env)[1])
    assert settings["database"]["value"] == str(tmp_path / "from-env.sqlite3")
    assert settings["database"]["source"] == "env:TIDINGS_DB"
    flag = tmp_path / "from-flag.sqlite3"
    settings = json.loads(run(flag, "--config", str(config), "config", "--json", env=env)[1])
    assert settings["database"] == {"value": str(flag), "source": "flag:--db"}
    # The archive commands use what is in effect.
    assert run(None, "--config", str(config), "stats")[0] == 0
    assert (tmp_path / "from-file.sqlite3").exists()
    # A bad file is one line naming it, exit 2.
    config.write_text("databse = 'x'\n", "utf-8")
    code, _, err = run(None, "--config", str(config), "stats")
    assert code == 2 and str(config) in err and "did you mean 'database'" in err
    assert len(err.strip().splitlines()) == 1


def test_the_demo_twice_writes_nothing_the_second_time(tmp_path):
    """The demo's steps, run twice: the second publish writes no file, and every exported
    article keeps its newest title and body (an import of an unchanged, older file is not
    an edit)."""
    samples = tmp_path / "samples"
    shutil.copytree(ROOT / "samples", samples)
    db, mirror = tmp_path / "demo.sqlite3", tmp_path / "mirror"

    def demo() -> tuple[str, list[dict]]:
        assert run(db, "import", str(samples / "archive"))[0] == 0
        opml = (samples / "feeds.opml").read_text("utf-8").replace('xmlUrl="samples/', f'xmlUrl="{samples}/')
        (tmp_path / "feeds.opml").write_text(opml, "utf-8")
        assert run(db, "import-opml", str(tmp_path / "feeds.opml"))[0] == 0
        assert run(db, "update", "--all")[0] == 0
        code, out, _ = run(db, "publish", str(mirror))
        assert code == 0
        jsonl = tmp_path / "archive.jsonl"
        assert run(db, "export", "--format", "jsonl", str(jsonl))[0] == 0
        return out, [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]

    first, _ = demo()
    assert " 0 files written" not in first and (mirror / "index.html").is_file()
    second, articles = demo()
    assert "nothing new" in second and " 0 files written," in second
    edited = [a for a in articles if len(a["revisions"]) > 1]
    assert edited, "the samples hold articles their feeds edited"
    for article in articles:
        newest = max(article["revisions"], key=lambda r: (r["seen"], r["source"] != "import"))
        assert article["title"] == newest["title"]
        for record in article["files"]:
            text = (mirror / "articles" / article["site"] / record["name"]).read_text("utf-8")
            assert newest["title"].split()[0] in text.splitlines()[1]
            assert newest["content_html"].strip()[:40] in text


def test_show_and_history_of_an_edited_article(tmp_path):
    db = tmp_path / "db.sqlite3"
    folder = tmp_path / "docs"
    folder.mkdir()
    document = folder / "1048575_停火.md"
    link = "https://shanhai.example/news/1"
    document.write_text(f"<!--1763625600000-->\n[加沙停火进入第一阶段]({link})\n------\n\n<p>双方同意停火。</p>\n", "utf-8")
    assert run(db, "import", str(folder), "--site", "山海日报")[0] == 0
    document.write_text(
        f"<!--1763625600000-->\n[加沙停火进入第二阶段]({link})\n------\n\n<p>双方同意停火。</p><p>谈判继续。</p>\n",
        "utf-8",
    )
    assert run(db, "import", str(folder), "--site", "山海日报")[0] == 0
    code, out, _ = run(db, "show", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "加沙停火进入第二阶段" and lines[1] == link
    assert "site: 山海日报" in out and "谈判继续。" in out and "2 revisions" in out
    assert any(line.startswith(" *") and "加沙停火进入第二阶段" in line for line in lines)
    shown = json.loads(run(db, "show", "1", "--json")[1])
    assert shown["title"] == "加沙停火进入第二阶段" and len(shown["revisions"]) == 2
    assert shown["revisions"][0]["dated"] == "2025-11-20T08:00:00Z"  # the document's date, not the import's
    code, out, _ = run(db, "history", "1", "--no-color")
    assert code == 0
    assert "title: 加沙停火进入第[-一-]{+二+}阶段" in out  # character level for Chinese
    assert "{+谈判继续。+}" in out and "changed: title, body" in out
    history = json.loads(run(db, "history", "1", "--json")[1])
    newest = history["revisions"][-1]
    assert newest["current"] and newest["changed"] == ["title", "body"]
    assert ["del", "一"] in newest["title_diff"] and ["ins", "二"] in newest["title_diff"]
    code, _, err = run(db, "show", "99")
    assert code == 1 and "no article with id 99" in err
