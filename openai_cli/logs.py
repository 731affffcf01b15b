"""Conversations kept locally: every ``ask``/``repl`` exchange in one SQLite file.

The file is ``logs.db`` in the user data directory (``OAI_DATA_DIR`` overrides the
directory). It holds what was asked and answered, the model, usage, ids and
timings, never a key or a header. An exchange is written when its request is sent
and updated while the answer streams, so a crash or Ctrl-C leaves the text so far,
marked ``partial``; only ``complete`` exchanges are sent again as history.

Writing is best effort: a log that cannot be opened or written is reported once
on stderr and the answer goes on.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from openai_cli.config.table import Environment

if TYPE_CHECKING:
    from openai_cli.io import IO

FILE_NAME = "logs.db"
SCHEMA_VERSION = 1
PROGRESS_INTERVAL = 0.5  # seconds between saves of a streaming answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    title TEXT,
    model TEXT,
    profile TEXT,
    base_url TEXT
);
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    started_at REAL NOT NULL,
    first_text_ms INTEGER,
    duration_ms INTEGER,
    status TEXT NOT NULL,
    api TEXT NOT NULL,
    model TEXT,
    system TEXT,
    prompt TEXT NOT NULL,
    attachments TEXT,
    answer TEXT NOT NULL DEFAULT '',
    usage TEXT,
    request_id TEXT,
    response_id TEXT,
    stored INTEGER NOT NULL DEFAULT 1,
    error TEXT,
    profile TEXT,
    base_url TEXT
);
CREATE INDEX IF NOT EXISTS exchanges_by_conversation ON exchanges(conversation_id, id);
"""
# External-content full-text index over prompts and answers, kept in step by triggers.
_FTS = """
CREATE VIRTUAL TABLE IF NOT EXISTS exchanges_fts
    USING fts5(prompt, answer, content='exchanges', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS exchanges_ai AFTER INSERT ON exchanges BEGIN
    INSERT INTO exchanges_fts(rowid, prompt, answer) VALUES (new.id, new.prompt, new.answer);
END;
CREATE TRIGGER IF NOT EXISTS exchanges_ad AFTER DELETE ON exchanges BEGIN
    INSERT INTO exchanges_fts(exchanges_fts, rowid, prompt, answer)
        VALUES ('delete', old.id, old.prompt, old.answer);
END;
CREATE TRIGGER IF NOT EXISTS exchanges_au AFTER UPDATE OF prompt, answer ON exchanges BEGIN
    INSERT INTO exchanges_fts(exchanges_fts, rowid, prompt, answer)
        VALUES ('delete', old.id, old.prompt, old.answer);
    INSERT INTO exchanges_fts(rowid, prompt, answer) VALUES (new.id, new.prompt, new.answer);
END;
"""


class LogError(Exception):
    """The log file cannot be opened, read or written."""


def data_dir(env: Mapping[str, str]) -> Path:
    chosen = Environment.data_dir.read(env)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return platformdirs.user_data_path("oai", appauthor=False)


def db_path(env: Mapping[str, str]) -> Path:
    return data_dir(env) / FILE_NAME


def public_url(url: str) -> str:
    """The base URL without a user name, password or query: nothing secret is logged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def clean(text: str) -> str:
    """Text SQLite can store: a lone surrogate becomes U+FFFD instead of an error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


@dataclass
class Past:
    """One earlier exchange of a conversation, as history to send again."""

    prompt: str
    answer: str
    api: str
    model: str | None
    response_id: str | None
    stored: bool


class Log:
    """The conversations database; every method raises :class:`LogError` on failure."""

    def __init__(self, path: Path, db: sqlite3.Connection, fts: bool) -> None:
        self.path = path
        self.db = db
        self.fts = fts

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, env: Mapping[str, str], *, create: bool = True) -> Log | None:
        """The log, created when missing (or None when missing and ``create`` is off)."""
        path = db_path(env)
        if not create and not path.exists():
            return None
        try:
            if create:
                _private_dir(path.parent)
                if not path.exists():
                    # Created owner-only before SQLite opens it; its -wal and -shm
                    # files take the same permissions.
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    os.close(fd)
            db = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise LogError(f"cannot open {path}: {exc}") from None
        try:
            return cls(path, db, _prepare(db))
        except sqlite3.Error as exc:
            db.close()
            raise LogError(f"cannot use {path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise LogError(f"{self.path}: {exc}") from None

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        try:
            return list(self.db.execute(sql, args))
        except sqlite3.Error as exc:
            raise LogError(f"{self.path}: {exc}") from None

    # -- writing -----------------------------------------------------------------------

    def begin(
        self,
        conversation_id: str | None,
        *,
        api: str,
        model: str,
        system: str | None,
        prompt: str,
        attachments: list[dict[str, Any]],
        stored: bool,
        profile: str | None,
        base_url: str,
    ) -> Entry:
        """Record a turn about to be sent (as ``partial``); a new conversation if none."""
        now = time.time()
        url = public_url(base_url)
        prompt = clean(prompt)
        with self._tx() as db:
            if conversation_id is None or not self._exists(conversation_id):
                conversation_id = conversation_id or new_id()
                db.execute(
                    "INSERT INTO conversations(id, created_at, updated_at, title, model, "
                    "profile, base_url) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (conversation_id, now, now, _title(prompt), model, profile, url),
                )
            else:
                db.execute(
                    "UPDATE conversations SET updated_at = ?, model = ? WHERE id = ?",
                    (now, model, conversation_id),
                )
            cur = db.execute(
                "INSERT INTO exchanges(conversation_id, started_at, status, api, model, system, "
                "prompt, attachments, stored, profile, base_url) "
                "VALUES (?, ?, 'partial', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    now,
                    api,
                    model,
                    clean(system) if system else None,
                    prompt,
                    json.dumps(attachments) if attachments else None,
                    int(stored),
                    profile,
                    url,
                ),
            )
        assert cur.lastrowid is not None
        return Entry(self, conversation_id, cur.lastrowid, now)

    def _exists(self, conversation_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return row is not None

    def delete(self, conversation_id: str) -> bool:
        with self._tx() as db:
            db.execute("DELETE FROM exchanges WHERE conversation_id = ?", (conversation_id,))
            gone = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        self._checkpoint()
        return gone.rowcount > 0

    def delete_all(self) -> int:
        with self._tx() as db:
            db.execute("DELETE FROM exchanges")
            gone = db.execute("DELETE FROM conversations")
        self._checkpoint()
        return gone.rowcount

    def _checkpoint(self) -> None:
        # Deleted text must not linger in the write-ahead log either.
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- reading -----------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            return None
        out = _conversation(rows[0])
        out["exchanges"] = [
            _exchange(r)
            for r in self._query(
                "SELECT * FROM exchanges WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            )
        ]
        return out

    def history(self, conversation_id: str) -> list[Past]:
        """The conversation's complete exchanges, oldest first."""
        return [
            Past(
                r["prompt"],
                r["answer"],
                r["api"],
                r["model"],
                r["response_id"],
                bool(r["stored"]),
            )
            for r in self._query(
                "SELECT * FROM exchanges WHERE conversation_id = ? AND status = 'complete' "
                "ORDER BY id",
                (conversation_id,),
            )
        ]

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The most recently used conversations, newest first, each with its exchanges."""
        rows = self._query(
            "SELECT * FROM conversations ORDER BY updated_at DESC, rowid DESC LIMIT ?", (limit,)
        )
        out = []
        for row in rows:
            item = self.conversation(row["id"])
            if item is not None:
                out.append(item)
        return out

    def search(self, text: str, limit: int) -> list[dict[str, Any]]:
        """Exchanges whose prompt or answer holds every word of ``text``, newest first."""
        words = text.split()
        if not words:
            return []
        if self.fts:
            # Each word as a quoted phrase: the user's text is never FTS5 syntax.
            match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
            sql = (
                "SELECT e.* FROM exchanges_fts f JOIN exchanges e ON e.id = f.rowid "
                "WHERE exchanges_fts MATCH ? ORDER BY e.id DESC LIMIT ?"
            )
            args: tuple[Any, ...] = (match, limit)
        else:
            clauses = []
            params: list[Any] = []
            for w in words:
                pattern = "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                clauses.append("(prompt LIKE ? ESCAPE '\\' OR answer LIKE ? ESCAPE '\\')")
                params += [pattern + "%", pattern + "%"]
            sql = f"SELECT * FROM exchanges WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?"
            args = (*params, limit)
        return [_exchange(r) for r in self._query(sql, args)]


class Entry:
    """One exchange being written: its answer saved as it grows, then its outcome."""

    def __init__(self, log: Log, conversation_id: str, row: int, started: float) -> None:
        self.log = log
        self.conversation_id = conversation_id
        self.row = row
        self.started = started
        self.first_text: float | None = None
        self._saved_at = 0.0
        self._saved_len = 0

    def progress(self, text: str) -> None:
        """The answer so far; saved a few times a second at most."""
        now = time.time()
        if self.first_text is None and text:
            self.first_text = now
        if len(text) == self._saved_len or now - self._saved_at < PROGRESS_INTERVAL:
            return
        self._saved_at = now
        self._saved_len = len(text)
        with self.log._tx() as db:
            db.execute(
                "UPDATE exchanges SET answer = ?, first_text_ms = ? WHERE id = ?",
                (clean(text), self._ms(self.first_text), self.row),
            )

    def finish(
        self,
        *,
        status: str,
        text: str,
        api: str,
        usage: dict[str, Any] | None = None,
        request_id: str | None = None,
        response_id: str | None = None,
        error: str | None = None,
    ) -> None:
        now = time.time()
        if self.first_text is None and text:
            self.first_text = now
        with self.log._tx() as db:
            db.execute(
                "UPDATE exchanges SET status = ?, answer = ?, api = ?, usage = ?, "
                "request_id = ?, response_id = ?, error = ?, first_text_ms = ?, duration_ms = ? "
                "WHERE id = ?",
                (
                    status,
                    clean(text),
                    api,
                    json.dumps(usage) if usage else None,
                    request_id,
                    response_id,
                    clean(error) if error else None,
                    self._ms(self.first_text),
                    self._ms(now),
                    self.row,
                ),
            )
            db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (now, self.conversation_id),
            )

    def discard(self) -> None:
        """Forget a turn that got no answer at all (refused, or cancelled before any text)."""
        with self.log._tx() as db:
            db.execute("DELETE FROM exchanges WHERE id = ?", (self.row,))
            db.execute(
                "DELETE FROM conversations WHERE id = ? AND NOT EXISTS "
                "(SELECT 1 FROM exchanges WHERE conversation_id = ?)",
                (self.conversation_id, self.conversation_id),
            )

    def _ms(self, at: float | None) -> int | None:
        return None if at is None else int((at - self.started) * 1000)


def new_id() -> str:
    return secrets.token_hex(6)


def _private_dir(path: Path) -> None:
    if not path.is_dir():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)


def _prepare(db: sqlite3.Connection) -> bool:
    """Settings for this connection and the schema; True when full-text search works."""
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA foreign_keys = ON")
    # Deleted conversations are overwritten on disk, not just unlinked from the tree.
    db.execute("PRAGMA secure_delete = ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"written by a newer oai (schema {version}, this one knows {SCHEMA_VERSION})"
        )
    if version < SCHEMA_VERSION:
        db.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    try:
        db.executescript("BEGIN;" + _FTS + "COMMIT;")
    except sqlite3.OperationalError:
        # This SQLite was built without FTS5: search falls back to LIKE.
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        return False
    return True


def _title(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line[:77] + "..." if len(line) > 80 else line


def _conversation(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "oai.conversation",
        "created_at": int(row["created_at"]),
        "updated_at": int(row["updated_at"]),
        "model": row["model"],
        "title": row["title"],
        "profile": row["profile"],
        "base_url": row["base_url"],
    }


def _exchange(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "oai.exchange",
        "conversation_id": row["conversation_id"],
        "created_at": int(row["started_at"]),
        "status": row["status"],
        "api": row["api"],
        "model": row["model"],
        "system": row["system"],
        "prompt": row["prompt"],
        "attachments": json.loads(row["attachments"]) if row["attachments"] else [],
        "answer": row["answer"],
        "usage": json.loads(row["usage"]) if row["usage"] else None,
        "request_id": row["request_id"],
        "response_id": row["response_id"],
        "first_text_ms": row["first_text_ms"],
        "duration_ms": row["duration_ms"],
        "error": row["error"],
        "profile": row["profile"],
        "base_url": row["base_url"],
    }


def warn(io: IO, exc: LogError) -> None:
    io.message(f"oai: warning: the conversation log is not kept: {exc}")
