"""The SQLite schema: an append-only list of migrations; the schema version is its length.

Never edit or reorder an entry: add a new one at the end. :class:`~tidings.store.sqlite.SQLiteStore`
applies those a database lacks when it opens it.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: tuple[str, ...] = (
    # 1: the archive
    """
    CREATE TABLE sites (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        title TEXT,
        etag TEXT,
        last_modified TEXT,
        interval_s INTEGER NOT NULL DEFAULT 3600,
        next_fetch INTEGER,
        last_fetch INTEGER,
        last_success INTEGER,
        error_count INTEGER NOT NULL DEFAULT 0,
        error_kind TEXT,
        error_message TEXT,
        state TEXT NOT NULL DEFAULT 'active',
        options TEXT NOT NULL DEFAULT '{}',
        created INTEGER NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        feed_id INTEGER REFERENCES feeds(id),
        key TEXT NOT NULL,
        url TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        published INTEGER,
        state TEXT NOT NULL DEFAULT 'present',
        current_revision_id INTEGER,
        UNIQUE (site_id, key)
    );
    CREATE INDEX articles_url ON articles(url);
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        seen INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        author TEXT,
        summary TEXT,
        content_html TEXT NOT NULL,
        enclosures TEXT NOT NULL DEFAULT '[]',
        language TEXT,
        source TEXT NOT NULL,
        UNIQUE (article_id, content_hash)
    );
    CREATE TABLE document_files (
        site_id INTEGER NOT NULL REFERENCES sites(id),
        file_name TEXT NOT NULL,
        file_id INTEGER,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        revision_id INTEGER NOT NULL REFERENCES revisions(id),
        head TEXT,
        tail TEXT NOT NULL DEFAULT '\n',
        bom INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (site_id, file_name)
    ) WITHOUT ROWID;
    CREATE INDEX document_files_article ON document_files(article_id);
    CREATE TABLE fetches (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id),
        started INTEGER NOT NULL,
        status INTEGER,
        bytes INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        new_articles INTEGER NOT NULL DEFAULT 0,
        changed_articles INTEGER NOT NULL DEFAULT 0,
        error_kind TEXT,
        error_message TEXT
    );
    CREATE INDEX fetches_feed ON fetches(feed_id, started);
    """,
    # 2: scheduling state of feeds
    """
    ALTER TABLE feeds ADD COLUMN current_interval_s INTEGER NOT NULL DEFAULT 3600;
    ALTER TABLE feeds ADD COLUMN last_status INTEGER;
    ALTER TABLE feeds ADD COLUMN last_new INTEGER;
    CREATE INDEX articles_feed ON articles(feed_id);
    CREATE INDEX feeds_due ON feeds(state, next_fetch);
    """,
    # 3: clean HTML and plain text derived from each revision (rebuildable)
    """
    ALTER TABLE revisions ADD COLUMN clean_html TEXT;
    ALTER TABLE revisions ADD COLUMN text TEXT;
    CREATE INDEX revisions_underived ON revisions(id) WHERE text IS NULL;
    """,
    # 4: the search index (contentless FTS5 over prepared text; see tidings.textindex)
    """
    CREATE VIRTUAL TABLE search USING fts5(
        title, body, content='', detail=full, tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TABLE search_rows (
        article_id INTEGER PRIMARY KEY REFERENCES articles(id),
        title_revision INTEGER NOT NULL,
        body_revision INTEGER NOT NULL
    );
    """,
    # 5: merge index segments less eagerly while inserting (measured: 20% faster builds)
    """
    INSERT INTO search(search, rank) VALUES ('automerge', 16);
    """,
    # 6: timelines, newest first
    """
    CREATE INDEX articles_time ON articles(coalesce(published, first_seen), id);
    CREATE INDEX articles_site_time ON articles(site_id, coalesce(published, first_seen), id);
    """,
    # 7: what the last good fetch of a feed could not read (items skipped, none readable)
    """
    ALTER TABLE feeds ADD COLUMN problem TEXT;
    """,
    # 8: history. A sighting is a run of fetches (or checks, or imports) that showed one
    # revision; raw variants of a revision that differ only in what cleaning removes are kept
    # once each; state changes are events with their evidence. Existing revisions become
    # sightings at the time they were seen.
    """
    ALTER TABLE revisions ADD COLUMN fingerprint TEXT;
    ALTER TABLE revisions ADD COLUMN changed TEXT NOT NULL DEFAULT '[]';
    CREATE INDEX revisions_fingerprint ON revisions(article_id, fingerprint);
    CREATE TABLE raw_contents (
        id INTEGER PRIMARY KEY,
        revision_id INTEGER NOT NULL REFERENCES revisions(id),
        content_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        content_html TEXT NOT NULL,
        UNIQUE (revision_id, content_hash)
    );
    CREATE TABLE sightings (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        revision_id INTEGER NOT NULL REFERENCES revisions(id),
        source TEXT NOT NULL,
        feed_id INTEGER,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        times INTEGER NOT NULL DEFAULT 1,
        status INTEGER,
        raw_id INTEGER REFERENCES raw_contents(id)
    );
    CREATE INDEX sightings_article ON sightings(article_id, id);
    CREATE INDEX sightings_time ON sightings(first_seen);
    INSERT INTO sightings(article_id, revision_id, source, feed_id, first_seen, last_seen)
        SELECT r.article_id, r.id, r.source, a.feed_id, r.seen, r.seen
        FROM revisions r JOIN articles a ON a.id = r.article_id ORDER BY r.id;
    CREATE TABLE state_changes (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        at INTEGER NOT NULL,
        old_state TEXT NOT NULL,
        new_state TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX state_changes_article ON state_changes(article_id, id);
    CREATE INDEX state_changes_time ON state_changes(at);
    ALTER TABLE articles ADD COLUMN state_since INTEGER;
    """,
    # 9: recent changes, newest first, read without scanning every revision
    """
    CREATE INDEX revisions_seen ON revisions(seen);
    """,
    # 10: archived images: files by SHA-256, images by URL, which revisions use which
    """
    CREATE TABLE media (
        sha256 TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        size INTEGER NOT NULL,
        stored INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        sha256 TEXT REFERENCES media(sha256),
        status TEXT NOT NULL DEFAULT 'pending',
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_try INTEGER,
        http_status INTEGER
    );
    CREATE INDEX images_due ON images(status, last_try) WHERE status IN ('pending', 'failed');
    CREATE TABLE revision_images (
        revision_id INTEGER NOT NULL REFERENCES revisions(id),
        image_id INTEGER NOT NULL REFERENCES images(id),
        place INTEGER NOT NULL,
        PRIMARY KEY (revision_id, image_id)
    ) WITHOUT ROWID;
    CREATE INDEX revision_images_image ON revision_images(image_id);
    ALTER TABLE revisions ADD COLUMN images_listed INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX revisions_unlisted ON revisions(id) WHERE images_listed = 0;
    """,
    # 11: the search index gathers up to 16 MB of terms in memory before it writes them as
    # a segment (default 1 MB: four segments per batch of 400 articles). Measured: inserts
    # 1.6x faster, the index a fifth smaller.
    """
    INSERT INTO search(search, rank) VALUES ('hashsize', 16777216);
    """,
    # 12: the search index keeps one-character prefixes too, so that a single Chinese
    # character (a prefix query over every bigram it begins) reads one list instead of
    # merging thousands (measured at 100,000 articles: 15 ms -> 0.7 ms to find a window,
    # 30 ms -> 4 ms to rank it; inserts 20% slower). The index is built again by the next
    # derive stage (Archive.derive: an empty index beside derived text is rebuilt).
    """
    DROP TABLE search;
    CREATE VIRTUAL TABLE search USING fts5(
        title, body, content='', detail=full, tokenize='unicode61 remove_diacritics 2', prefix='1'
    );
    INSERT INTO search(search, rank) VALUES ('automerge', 16);
    INSERT INTO search(search, rank) VALUES ('hashsize', 16777216);
    DELETE FROM search_rows;
    """,
    # 13: a single Chinese character is found through two small columns, the distinct CJK
    # characters of the title and of the body, instead of one-character prefixes of every
    # token (which made the index 2.0-2.2x the text it covers; measured with the columns:
    # 1.8x, single characters as fast). Rebuilt by the next derive stage, as after 12.
    """
    DROP TABLE search;
    CREATE VIRTUAL TABLE search USING fts5(
        title, body, title_chars, body_chars, content='', detail=full,
        tokenize='unicode61 remove_diacritics 2'
    );
    INSERT INTO search(search, rank) VALUES ('automerge', 16);
    INSERT INTO search(search, rank) VALUES ('hashsize', 16777216);
    DELETE FROM search_rows;
    """,
)
