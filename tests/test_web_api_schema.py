"""Property tests of the JSON API against its own OpenAPI description: no server error, ever."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

import tidings
from tidings.model import NewRevision, RevisionSource
from tidings.web import create_app

warnings.filterwarnings("ignore", category=DeprecationWarning)


def _app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    db = tmp_path_factory.mktemp("api") / "api.sqlite3"
    when = datetime(2025, 11, 20, tzinfo=timezone.utc)
    with tidings.open_archive(db) as archive:
        store = archive.store
        with store.transaction():
            article = store.add_article(store.site("法广").id, "a", "https://rfi.example/a", when, when)
            store.add_revision(article.id, NewRevision(when, "加沙停火", "<p>外长呼吁停火。</p>", RevisionSource.FEED))
        archive.derive()
    return create_app(db, token="sekrit")


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):  # type: ignore[no-untyped-def]
    return _app(tmp_path_factory)


def test_no_server_errors(api_app):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api_app)
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):  # type: ignore[no-untyped-def]
            response = case.call()
            assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:200]}"

        check()
        checked += 1
    assert checked == 13  # every operation the description lists
