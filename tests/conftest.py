from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# Validated catalogs go to a folder of the test session's own, never the user's cache (the
# setting reaches the installed command run in subprocesses too).
_CACHE = tempfile.TemporaryDirectory(prefix="infra-advisor-test-cache-")
os.environ["INFRA_ADVISOR_CACHE_DIR"] = _CACHE.name
os.environ.pop("INFRA_ADVISOR_NO_CACHE", None)

from infra_advisor.catalog import Catalog, load_catalog  # noqa: E402


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session", autouse=True)
def _cache_folder() -> Iterator[None]:
    yield
    _CACHE.cleanup()
