"""Conversations kept locally: every ``ask``/``repl`` exchange in one SQLite file.

The file is ``logs.db`` in the user data directory (``OAI_DATA_DIR`` overrides the
directory). It holds what was asked and answered, the model, usage, ids and
timings, never a key, a header, a password in a URL or a signed link's query.

An exchange is written when its request is sent and added to while the answer
streams: a few times a second the text that came since the last save is appended
to ``answer_pieces``, so saving costs time in proportion to the answer's length,
and a crash or Ctrl-C leaves the text so far, marked ``partial``. The pieces are
the stored answer: when it ends, only the text not yet saved is appended, and the
whole answer is added to the full-text index once; it is never written again
(``exchanges.answer`` holds only the answers of logs made before). An answer is
read back as that column followed by its pieces. Only ``complete`` exchanges are
sent again as history; an answer cut short (a broken stream, the token limit, a
content filter) stays ``partial``, with the reason in ``error``.

Deleting a conversation leaves none of its words in the file or its write-ahead
log: rows are overwritten (``secure_delete``), the full-text index is merged so
that no segment still holds them, the file is rebuilt (``VACUUM``) and the
write-ahead log truncated.

The schema changes through :data:`MIGRATIONS`, applied in order, each once, and
recorded by name in the ``_migrations`` table. A file that cannot be written (a
read-only file system) can still be read, if it needs no migration.

Writing is best effort: a log that cannot be opened or written is reported once
on stderr and the answer goes on.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openai_cli import dirs
from openai_cli.errors import OaiError, UsageError, write_failed
from openai_cli.http.redact import stored_url
from openai_cli.input.estimate import usage_tokens

if TYPE_CHECKING:
    from openai_cli.io import IO

FILE_NAME = "logs.db"
PROGRESS_INTERVAL = 0.5  # seconds between saves of a streaming answer

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Add ``fn`` to :data:`MIGRATIONS`; its name is what the database records."""
    MIGRATIONS.append(fn)
    return fn


def _run(db: sqlite3.Connection, script: str) -> None:
    # One statement at a time: executescript would commit the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    """The first schema; a file made before migrations were recorded already has it."""
    _run(
        db,
        """
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
        CREATE INDEX IF NOT EXISTS exchanges_by_conversation ON exchanges(conversation_id, id)
        """,
    )


@migration
def m002_answer_pieces(db: sqlite3.Connection) -> None:
    """The text of an answer still streaming, appended piece by piece."""
    db.execute(
        """
        CREATE TABLE answer_pieces (
            exchange_id INTEGER NOT NULL REFERENCES exchanges(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (exchange_id, seq)
        )
        """
    )


@migration
def m003_tokens_and_cost(db: sqlite3.Connection) -> None:
    """Each exchange's tokens and cost, for the totals of ``oai logs usage``; the
    tokens of exchanges logged before are read from their usage."""
    for column in ("input_tokens INTEGER", "cached_tokens INTEGER", "output_tokens INTEGER"):
        db.execute(f"ALTER TABLE exchanges ADD COLUMN {column}")
    db.execute("ALTER TABLE exchanges ADD COLUMN cost REAL")
    rows = db.execute("SELECT id, usage FROM exchanges WHERE usage IS NOT NULL").fetchall()
    for row_id, usage in rows:
        try:
            counts = usage_tokens(json.loads(usage))
        except ValueError:
            counts = None
        if counts is not None:
            db.execute(
                "UPDATE exchanges SET input_tokens = ?, cached_tokens = ?, output_tokens = ? "
                "WHERE id = ?",
                (*counts, row_id),
            )


@migration
def m004_answers_in_pieces(db: sqlite3.Connection) -> None:
    """Answers stay in ``answer_pieces`` once whole. The full-text index is kept by
    this module instead of triggers on ``exchanges.answer`` (which a streamed answer
    no longer fills); ``indexed_seq`` is the last of an exchange's pieces that is in
    it (0: none, as for every exchange before)."""
    db.execute("ALTER TABLE exchanges ADD COLUMN indexed_seq INTEGER NOT NULL DEFAULT 0")
    db.execute("DROP TRIGGER IF EXISTS exchanges_ad")
    db.execute("DROP TRIGGER IF EXISTS exchanges_au")


# What ``oai logs usage`` totals by: the SQL of each grouping.
USAGE_GROUPS = {
    "day": "date(started_at, 'unixepoch', 'localtime')",
    "model": "COALESCE(model, '')",
    "profile": "COALESCE(profile, '')",
}


# External-content full-text index over prompts and answers. A new exchange is
# indexed by a trigger (its prompt; its answer column, empty for a streamed one).
# Its pieces are added by the next search (Log.search, _catch_up), not while
# ``ask`` runs: tokenising a long answer would cost as much as saving it. An
# exchange leaves the index, with the text it was indexed with, before its row
# goes (_unindex). Not a migration: it depends on the SQLite at hand having FTS5,
# and is made (and filled from the rows already there) by the first one that has.
_FTS = (
    """CREATE VIRTUAL TABLE exchanges_fts
        USING fts5(prompt, answer, content='exchanges', content_rowid='id')""",
    """CREATE TRIGGER exchanges_ai AFTER INSERT ON exchanges BEGIN
        INSERT INTO exchanges_fts(rowid, prompt, answer) VALUES (new.id, new.prompt, new.answer);
    END""",
    "INSERT INTO exchanges_fts(exchanges_fts) VALUES ('rebuild')",
)


class LogError(Exception):
    """The log file cannot be opened, read or written.

    ``disk`` is set when the file system refused a write (read-only, full, failing,
    or a permission): a command that had to write says so with the exit code of
    every file oai cannot write (:meth:`error`).
    """

    def __init__(self, message: str, *, disk: OSError | None = None) -> None:
        super().__init__(message)
        self.disk = disk

    def error(self, prefix: str = "") -> OaiError:
        """This failure as the error of a command that needed the log."""
        if self.disk is not None:
            return write_failed(prefix + str(self), self.disk)
        return UsageError(prefix + str(self))


# SQLite's result codes for a write the disk refused, as the errno they stand for.
_DISK_CODES = {
    sqlite3.SQLITE_FULL: errno.ENOSPC,
    sqlite3.SQLITE_IOERR: errno.EIO,
    sqlite3.SQLITE_READONLY: errno.EROFS,
}


def _failure(path: Path, exc: sqlite3.Error, doing: str = "") -> LogError:
    """The LogError for ``exc``; one from the disk as ``cannot write PATH: ...``."""
    code = getattr(exc, "sqlite_errorcode", None)
    disk = None if code is None else _DISK_CODES.get(code & 0xFF)
    if disk is None:
        return LogError(f"{path}: {doing}{exc}")
    return LogError(f"cannot write {path}: {doing}{exc}", disk=OSError(disk, str(exc)))


def data_dir(env: Mapping[str, str]) -> Path:
    return Path(dirs.folder(dirs.DATA, env))


def db_path(env: Mapping[str, str]) -> Path:
    return data_dir(env) / FILE_NAME


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

    def __init__(
        self, path: Path, db: sqlite3.Connection, fts: bool, unwritable: OSError | None = None
    ) -> None:
        self.path = path
        self.db = db
        self.fts = fts
        self.unwritable = unwritable  # why a log opened read-only cannot be written

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, env: Mapping[str, str], *, create: bool = True) -> Log | None:
        """The log to write to, created when missing.

        Without ``create``: the log to read, or None when there is none; a file that
        cannot be written (a read-only file system) is opened read-only.
        """
        path = db_path(env)
        if not create:
            if not path.exists():
                return None
            problem = _unwritable(path)
            if problem is not None:
                return cls._read_only(path, problem)
        try:
            if create:
                _private_dir(path.parent)
                if not path.exists():
                    # Created owner-only before SQLite opens it; its -wal and -shm
                    # files take the same permissions. Another process may make it
                    # first.
                    with contextlib.suppress(FileExistsError):
                        os.close(
                            os.open(
                                path,
                                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                                0o600,
                            )
                        )
                problem = _unwritable(path)
                if problem is not None:
                    raise _refused(path, problem)
            db = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise LogError(f"cannot open {path}: {exc}") from None
        try:
            return cls(path, db, _prepare(db))
        except sqlite3.Error as exc:
            db.close()
            raise LogError(f"cannot use {path}: {exc}") from None

    @classmethod
    def _read_only(cls, path: Path, unwritable: OSError) -> Log:
        """``path`` opened for reading only, as a read-only file system allows."""
        uri = path.resolve().as_uri()
        problem: Exception | None = None
        why = unwritable.strerror or str(unwritable)
        # mode=ro still needs the -shm file of a WAL database, which a read-only
        # file system may not have; there nothing can change the file, so it may
        # be read as immutable.
        for query in ("mode=ro", "immutable=1"):
            try:
                db = sqlite3.connect(f"{uri}?{query}", uri=True, isolation_level=None)
            except sqlite3.Error as exc:
                raise LogError(f"cannot open {path}: {exc}") from None
            try:
                db.row_factory = sqlite3.Row
                pending = _pending(db)
            except sqlite3.Error as exc:
                db.close()
                problem = exc
                continue
            if pending:
                db.close()
                raise LogError(
                    f"cannot read {path}: it needs an upgrade ({pending[0].__name__}), "
                    f"and it cannot be written: {why}",
                    disk=unwritable,
                )
            return cls(path, db, _has_table(db, "exchanges_fts"), unwritable)
        raise LogError(f"cannot read {path}: {problem}")

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; a log that was opened read-only refuses it at once."""
        if self.unwritable is not None:
            raise _refused(self.path, self.unwritable)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _failure(self.path, exc) from None

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
        url = stored_url(base_url)
        prompt = clean(prompt)
        # An attachment named by its URL keeps only where it points: a signed link's
        # query is a credential for as long as it lasts.
        kept = [{**a, "name": stored_url(str(a["name"]))} for a in attachments]
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
                    json.dumps(kept) if kept else None,
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
        self._wiping()
        with self._tx() as db:
            if self.fts:
                _unindex(db, "conversation_id = ?", (conversation_id,))
            db.execute(
                "DELETE FROM answer_pieces WHERE exchange_id IN "
                "(SELECT id FROM exchanges WHERE conversation_id = ?)",
                (conversation_id,),
            )
            db.execute("DELETE FROM exchanges WHERE conversation_id = ?", (conversation_id,))
            gone = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        self._forget()
        return gone.rowcount > 0

    def delete_all(self) -> int:
        self._wiping()
        with self._tx() as db:
            if self.fts:
                db.execute("INSERT INTO exchanges_fts(exchanges_fts) VALUES ('delete-all')")
            db.execute("DELETE FROM answer_pieces")
            db.execute("DELETE FROM exchanges")
            gone = db.execute("DELETE FROM conversations")
        self._forget()
        return gone.rowcount

    def _wiping(self) -> None:
        if self.unwritable is not None:
            raise _refused(self.path, self.unwritable)
        try:
            self.db.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as exc:
            raise _failure(self.path, exc) from None

    def _forget(self) -> None:
        """Leave no copy of deleted text anywhere in the files.

        The rows were overwritten as they were deleted (``secure_delete``), but the
        full-text index keeps a deleted document's terms in its old segments, and
        its delete marker in a new one, until the segments are merged; pages freed
        earlier, and the write-ahead log, may still hold old copies of the text.
        """
        try:
            if self.fts:
                with self._tx() as db:
                    db.execute("INSERT INTO exchanges_fts(exchanges_fts) VALUES ('optimize')")
            self.db.execute("VACUUM")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise _failure(self.path, exc, "deleted, but not yet wiped from the file: ") from None

    # -- reading -----------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            return None
        out = _conversation(rows[0])
        out["exchanges"] = self._exchanges(
            "SELECT * FROM exchanges WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return out

    def _exchanges(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Exchanges as dicts, each with its whole answer."""
        return [_exchange(row, self._answer(row)) for row in self._query(sql, args)]

    def _answer(self, row: sqlite3.Row) -> str:
        try:
            return _answer(self.db, row["id"], row["answer"])
        except sqlite3.Error as exc:
            raise LogError(f"{self.path}: {exc}") from None

    def history(self, conversation_id: str) -> list[Past]:
        """The conversation's complete exchanges, oldest first."""
        return [
            Past(
                r["prompt"],
                self._answer(r),
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

    def usage(self, by: str) -> list[dict[str, Any]]:
        """Turns, tokens and cost totalled by ``by`` (a key of :data:`USAGE_GROUPS`),
        the newest day (or the costliest model or profile) first."""
        key = USAGE_GROUPS[by]
        order = f"{by} DESC" if by == "day" else "cost DESC, turns DESC"
        rows = self._query(
            f"SELECT {key} AS {by}, COUNT(*) AS turns, "
            "SUM(COALESCE(input_tokens, 0)) AS input_tokens, "
            "SUM(COALESCE(cached_tokens, 0)) AS cached_tokens, "
            "SUM(COALESCE(output_tokens, 0)) AS output_tokens, "
            "COALESCE(SUM(cost), 0) AS cost, "
            "SUM(input_tokens IS NULL) AS without_usage, "
            "SUM(input_tokens IS NOT NULL AND cost IS NULL) AS without_price "
            f"FROM exchanges GROUP BY {by} ORDER BY {order}",
            (),
        )
        return [dict(row) for row in rows]

    def search(self, text: str, limit: int) -> list[dict[str, Any]]:
        """Exchanges whose prompt or answer holds every word of ``text``, newest first."""
        words = text.split()
        if not words:
            return []
        if not self.fts:
            return self._scan(words, limit, "1")
        # A log that cannot be written keeps its index as it is: the answers not
        # in it yet are read whole instead.
        with contextlib.suppress(LogError), self._tx() as db:
            _catch_up(db)
        # Each word as a quoted phrase: the user's text is never FTS5 syntax.
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        found = self._exchanges(
            "SELECT e.* FROM exchanges_fts f JOIN exchanges e ON e.id = f.rowid "
            "WHERE exchanges_fts MATCH ? ORDER BY e.id DESC LIMIT ?",
            (match, limit),
        )
        pending = self._scan(words, limit, _PENDING)
        if pending:
            merged = {item["id"]: item for item in [*found, *pending]}
            found = [merged[k] for k in sorted(merged, reverse=True)[:limit]]
        return found

    def _scan(self, words: list[str], limit: int, where: str) -> list[dict[str, Any]]:
        """The exchanges ``where`` that hold every word, read whole (an answer may
        span pieces) and matched as LIKE would: ASCII letters in either case."""
        wanted = [_ascii_lower(w) for w in words]
        found = []
        for item in self._exchanges(f"SELECT * FROM exchanges WHERE {where} ORDER BY id DESC", ()):
            text = _ascii_lower(item["prompt"] + "\n" + item["answer"])
            if all(w in text for w in wanted):
                found.append(item)
                if len(found) == limit:
                    break
        return found


class Entry:
    """One exchange being written: its answer saved as it grows, then its outcome."""

    def __init__(self, log: Log, conversation_id: str, row: int, started: float) -> None:
        self.log = log
        self.conversation_id = conversation_id
        self.row = row
        self.started = started
        self.first_text: float | None = None
        self._saved_at = 0.0
        self._saved = 0  # how many of the answer's pieces are in the file
        self._pieces: list[str] = []  # the list those pieces came from

    def progress(self, pieces: list[str]) -> None:
        """The answer so far, as the pieces it came in (a list that only grows).

        A few times a second at most, the pieces that came since the last save are
        appended to the file as one: the text already saved is never written again.
        """
        now = time.time()
        if self.first_text is None and any(pieces):
            self.first_text = now
        count = len(pieces)
        if count == self._saved or now - self._saved_at < PROGRESS_INTERVAL:
            return
        new = "".join(pieces[self._saved : count])
        with self.log._tx() as db:
            db.execute(
                "INSERT INTO answer_pieces(exchange_id, seq, text) VALUES (?, ?, ?)",
                (self.row, count, clean(new)),
            )
            db.execute(
                "UPDATE exchanges SET first_text_ms = ? WHERE id = ?",
                (self._ms(self.first_text), self.row),
            )
        self._saved_at = now
        self._saved = count
        self._pieces = pieces

    def _save_rest(self, db: sqlite3.Connection, text: str) -> None:
        """Make the stored pieces ``text``: append what is not saved yet, or, should
        ``text`` not begin with what was saved, put it in their place."""
        saved = "".join(self._pieces[: self._saved])
        if text.startswith(saved):
            rest = text[len(saved) :]
        else:
            # A search may have indexed the pieces: they leave the index with them.
            if self.log.fts:
                _unindex(db, "id = ?", (self.row,))
            db.execute("DELETE FROM answer_pieces WHERE exchange_id = ?", (self.row,))
            if self.log.fts:
                _index(db, self.row)
            rest = text
        if rest:
            db.execute(
                "INSERT INTO answer_pieces(exchange_id, seq, text) VALUES (?, ?, ?)",
                (self.row, self._saved + 1, clean(rest)),
            )

    def finish(
        self,
        *,
        status: str,
        text: str,
        api: str,
        usage: dict[str, Any] | None = None,
        cost: float | None = None,
        request_id: str | None = None,
        response_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """The outcome, the rest of the answer, and the whole answer into the index.
        ``cost`` is None when the model has no price (the tokens are kept all the same)."""
        now = time.time()
        if self.first_text is None and text:
            self.first_text = now
        counts = usage_tokens(usage) or (None, None, None)
        with self.log._tx() as db:
            self._save_rest(db, text)
            db.execute(
                "UPDATE exchanges SET status = ?, api = ?, usage = ?, "
                "input_tokens = ?, cached_tokens = ?, output_tokens = ?, cost = ?, "
                "request_id = ?, response_id = ?, error = ?, first_text_ms = ?, duration_ms = ? "
                "WHERE id = ?",
                (
                    status,
                    api,
                    json.dumps(usage) if usage else None,
                    *counts,
                    cost,
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
            if self.log.fts:
                _unindex(db, "id = ?", (self.row,))
            db.execute("DELETE FROM answer_pieces WHERE exchange_id = ?", (self.row,))
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


def _unwritable(path: Path) -> OSError | None:
    """Why ``path`` (or its folder, where SQLite keeps its -wal and -shm) cannot be
    written, or None; a read-only file system says so even to root."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return exc
    os.close(fd)
    if not os.access(path.parent, os.W_OK):
        return OSError(errno.EACCES, f"its folder {path.parent} is not writable")
    return None


def _refused(path: Path, problem: OSError) -> LogError:
    return LogError(f"cannot write {path}: {problem.strerror or problem}", disk=problem)


def _answer(db: sqlite3.Connection, row_id: int, column: str, upto: int | None = None) -> str:
    """An exchange's answer: its ``answer`` column, then its pieces (those up to
    ``upto``, when given)."""
    rows = db.execute(
        "SELECT text FROM answer_pieces WHERE exchange_id = ? AND seq <= ? ORDER BY seq",
        (row_id, _LAST if upto is None else upto),
    )
    return column + "".join(r[0] for r in rows)


_LAST = 2**63 - 1  # past any piece's seq
# Exchanges with pieces the full-text index does not hold yet.
_PENDING = (
    "EXISTS (SELECT 1 FROM answer_pieces p WHERE p.exchange_id = exchanges.id "
    "AND p.seq > exchanges.indexed_seq)"
)


def _unindex(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> None:
    """Take the exchanges ``where`` out of the full-text index, with the very text
    they were indexed with (an external-content index needs it to find them)."""
    rows = db.execute(
        f"SELECT id, prompt, answer, indexed_seq FROM exchanges WHERE {where}", args
    ).fetchall()
    for row_id, prompt, column, upto in rows:
        db.execute(
            "INSERT INTO exchanges_fts(exchanges_fts, rowid, prompt, answer) "
            "VALUES ('delete', ?, ?, ?)",
            (row_id, prompt, _answer(db, row_id, column, upto)),
        )


def _index(db: sqlite3.Connection, row_id: int) -> None:
    """Put an exchange (not in the index) into it with its whole answer so far."""
    ((prompt, column),) = db.execute(
        "SELECT prompt, answer FROM exchanges WHERE id = ?", (row_id,)
    ).fetchall()
    db.execute(
        "INSERT INTO exchanges_fts(rowid, prompt, answer) VALUES (?, ?, ?)",
        (row_id, prompt, _answer(db, row_id, column)),
    )
    db.execute(
        "UPDATE exchanges SET indexed_seq = "
        "(SELECT COALESCE(MAX(seq), 0) FROM answer_pieces WHERE exchange_id = ?) WHERE id = ?",
        (row_id, row_id),
    )


def _catch_up(db: sqlite3.Connection) -> None:
    """Index the pieces saved since each exchange was last indexed."""
    for (row_id,) in db.execute(f"SELECT id FROM exchanges WHERE {_PENDING}").fetchall():
        _unindex(db, "id = ?", (row_id,))
        _index(db, row_id)


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    return row is not None


def _pending(db: sqlite3.Connection) -> list[Migration]:
    """The migrations not yet applied, in order; a file from a newer oai is refused."""
    applied: set[str] = set()
    if _has_table(db, "_migrations"):
        applied = {r[0] for r in db.execute("SELECT name FROM _migrations")}
    unknown = applied - {m.__name__ for m in MIGRATIONS}
    if unknown:
        raise sqlite3.DatabaseError(
            f"written by a newer oai (it has {', '.join(sorted(unknown))}, "
            "which this one does not know)"
        )
    return [m for m in MIGRATIONS if m.__name__ not in applied]


def _migrate(db: sqlite3.Connection) -> None:
    """Apply the pending migrations, each once, in order, recording each by name."""
    if not _pending(db):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations "
            "(name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        # Another process may have migrated the file between the check and the lock.
        for step in _pending(db):
            step(db)
            db.execute(
                "INSERT INTO _migrations(name, applied_at) VALUES (?, ?)",
                (step.__name__, time.time()),
            )
        # An older oai, which knows only user_version, refuses a file past its own.
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _prepare(db: sqlite3.Connection) -> bool:
    """Settings for this connection and the schema; True when full-text search works."""
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA journal_mode = WAL")
    # A commit survives the process being killed; only a power cut may lose the last.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    # Deleted text is overwritten on disk where that costs no extra writes;
    # deleting a conversation turns this fully on and rebuilds the file
    # (Log._forget).
    db.execute("PRAGMA secure_delete = FAST")
    _migrate(db)
    if _has_table(db, "exchanges_fts"):
        return True
    try:
        db.execute("BEGIN IMMEDIATE")
        if not _has_table(db, "exchanges_fts"):
            for statement in _FTS:
                db.execute(statement)
            # The rebuild read the answer columns only; searches add the pieces.
            db.execute("UPDATE exchanges SET indexed_seq = 0")
        db.execute("COMMIT")
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


def _exchange(row: sqlite3.Row, answer: str) -> dict[str, Any]:
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
        "answer": answer,
        "usage": json.loads(row["usage"]) if row["usage"] else None,
        "cost": row["cost"],
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
