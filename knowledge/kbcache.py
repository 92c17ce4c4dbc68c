"""A compiled copy of the knowledge base and its matcher, so that a command starts in milliseconds.

Parsing and validating some 450 YAML files and building the matcher's indexes costs a few hundred
milliseconds on every ``backup-fix match``; unpickling the result costs tens. The copy is keyed by
every file that could change it (each data file's path, size and modification time, the matcher's
own source files, the Python version), so any edit makes a new one. It lives in the user's cache
folder (``$XDG_CACHE_HOME/backup-fix``, else ``~/.cache/backup-fix``) and is used only when that
folder and file belong to this user and nobody else may write them: a pickle runs code when it is
loaded, so one that another user could have written is never read. Anything wrong with the cache
(unwritable, corrupt, foreign) means it is simply not used: the knowledge base is loaded as usual.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from knowledge.loader import DATA_DIR, load_kb
from knowledge.matcher import Matcher

_CODE_DIR = Path(__file__).parent
_KEEP = 3  # compiled copies kept (a few knowledge-base folders or versions side by side)


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where compiled copies live: ``$XDG_CACHE_HOME/backup-fix`` or ``~/.cache/backup-fix``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "backup-fix"


def cached_matcher(root: Path | None = None, *, folder: Path | None = None) -> Matcher:
    """The matcher over the knowledge base at ``root`` (default: shipped), cached when fresh."""
    base = Path(root) if root is not None else DATA_DIR
    folder = folder if folder is not None else cache_dir()
    path = folder / f"kb-{_key(base)}.pickle"
    hit = _read(path)
    if hit is not None:
        return hit
    matcher = Matcher(load_kb(base))  # a defect raises here, exactly as without a cache
    _ = matcher.descriptions  # built on first use otherwise: the cached copy carries it
    _write(path, matcher)
    return matcher


def _key(base: Path) -> str:
    digest = hashlib.sha256(f"{sys.version}|{pickle.HIGHEST_PROTOCOL}|{base.resolve()}".encode())
    for path in sorted(_inputs(base)):
        try:
            st = path.stat()
        except OSError:
            continue
        digest.update(f"{path}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def _inputs(base: Path) -> Iterator[Path]:
    yield from base.rglob("*.yaml")
    yield from _CODE_DIR.glob("*.py")


def _private(path: Path) -> bool:
    """Owned by this user and writable by nobody else."""
    try:
        st = path.lstat()
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path) -> Matcher | None:
    if not (_private(path.parent) and _private(path)):
        return None
    try:
        with path.open("rb") as fh:
            found = pickle.load(fh)  # noqa: S301 - our own file in a private folder (see above)
    except Exception:  # any unreadable copy is ignored and rebuilt
        return None
    return found if isinstance(found, Matcher) else None


def _write(path: Path, matcher: Matcher) -> None:
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kb-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(matcher, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # atomic: a reader sees the old copy or the new, never half
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(folder, keep=path)
    except (OSError, pickle.PicklingError, RecursionError):
        return


def _prune(folder: Path, *, keep: Path) -> None:
    old = sorted(
        (p for p in folder.glob("kb-*.pickle") if p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in old[_KEEP - 1 :]:
        path.unlink(missing_ok=True)
