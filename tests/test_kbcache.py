"""The compiled knowledge-base cache: fresh copies are reused, any change or doubt rebuilds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from knowledge.errors import KnowledgeBaseError
from knowledge.kbcache import cache_dir, cached_matcher
from knowledge.loader import DATA_DIR

PASTE = "Backup failed: UserErrorGuestAgentStatusUnavailable on vm-01"


def _codes(matcher: object) -> list[str]:
    return [m.code for m in matcher.match(PASTE)]  # type: ignore[attr-defined]


@pytest.fixture(name="kb_copy")
def kb_copy_fixture(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(DATA_DIR, folder)
    return folder


def test_a_fresh_copy_is_reused_and_answers_the_same(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = cached_matcher(kb_copy, folder=cache)
    files = list(cache.glob("kb-*.pickle"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    second = cached_matcher(kb_copy, folder=cache)
    assert second is not first  # read back from the file, not the same object
    assert files[0].stat().st_mtime_ns == stamp  # not rewritten
    assert _codes(second) == _codes(first) == ["UserErrorGuestAgentStatusUnavailable"]


def test_an_edited_entry_makes_a_new_copy(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached_matcher(kb_copy, folder=cache)
    entry = next((kb_copy / "entries").glob("*/UserErrorGuestAgentStatusUnavailable.yaml"))
    text = entry.read_text(encoding="utf-8")
    entry.write_text(text.replace("code: UserErrorGuestAgentStatusUnavailable", "code: X"))
    with pytest.raises(KnowledgeBaseError, match=r"field .code."):
        cached_matcher(kb_copy, folder=cache)  # the defect surfaces: the old copy is not used


def test_a_corrupt_copy_is_rebuilt(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached_matcher(kb_copy, folder=cache)
    (path,) = cache.glob("kb-*.pickle")
    path.write_bytes(b"not a pickle")
    assert _codes(cached_matcher(kb_copy, folder=cache)) == ["UserErrorGuestAgentStatusUnavailable"]
    assert path.read_bytes() != b"not a pickle"


def test_a_folder_others_may_write_is_never_read(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached_matcher(kb_copy, folder=cache)
    (path,) = cache.glob("kb-*.pickle")
    path.write_bytes(b"not a pickle")  # a reader would fail on it; it must not be read at all
    os.chmod(cache, 0o777)  # noqa: S103 - the point of the test
    assert _codes(cached_matcher(kb_copy, folder=cache)) == ["UserErrorGuestAgentStatusUnavailable"]
    assert path.read_bytes() == b"not a pickle"  # neither read nor rewritten


def test_an_unwritable_place_still_answers(kb_copy: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert _codes(cached_matcher(kb_copy, folder=blocker / "cache")) == [
        "UserErrorGuestAgentStatusUnavailable"
    ]


def test_the_cache_folder_follows_xdg() -> None:
    assert cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/backup-fix")
    assert cache_dir({"HOME": "/h"}) == Path("/h/.cache/backup-fix")
