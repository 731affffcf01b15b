"""Every JSONL command reads a file the same in UTF-8 (with or without a BOM), UTF-16
and UTF-32 (with a BOM), as ``-F x=@file`` reads any text: through one decoding
rule (``reader.encoding_of``), and what is sent is UTF-8."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.scale.conftest import Oai

URL = "/v1/chat/completions"

ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 BOM": lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
    "utf-16-le BOM": lambda text: "\ufeff".encode("utf-16-le") + text.encode("utf-16-le"),
    "utf-16-be BOM": lambda text: "\ufeff".encode("utf-16-be") + text.encode("utf-16-be"),
    "utf-32-le BOM": lambda text: "\ufeff".encode("utf-32-le") + text.encode("utf-32-le"),
    "utf-32-be BOM": lambda text: "\ufeff".encode("utf-32-be") + text.encode("utf-32-be"),
}

# Any text a JSON string holds (no lone surrogates: no encoding can carry them).
words = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12)


def jsonl(items: list[dict[str, Any]], ascii_only: bool) -> str:
    return "".join(json.dumps(x, ensure_ascii=ascii_only) + "\n" for x in items)


def batch_lines(texts: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "custom_id": f"req-{i}",
            "method": "POST",
            "url": URL,
            "body": {"model": "m", "messages": [{"role": "user", "content": t}]},
        }
        for i, t in enumerate(texts, start=1)
    ]


def examples(texts: list[str]) -> list[dict[str, Any]]:
    # Ten at least: the fewest a fine-tuning job takes.
    return [
        {
            "messages": [
                {"role": "user", "content": f"{i} {t}"},
                {"role": "assistant", "content": t},
            ]
        }
        for i, t in enumerate((texts * 10)[: max(10, len(texts))])
    ]


def records(path: Path) -> list[Any]:
    # Split at newlines only: a JSON line may hold U+2028 or U+0085 unescaped.
    return [json.loads(x) for x in path.read_text().split("\n")[:-1]] if path.exists() else []


def run_all(oai: Oai, folder: Path, name: str, encoded: dict[str, bytes]) -> dict[str, Any]:
    """What each JSONL command made of the files: exit codes, messages, results."""
    got: dict[str, Any] = {}
    batch = folder / f"{name}.jsonl"
    batch.write_bytes(encoded["batch"])
    tuning = folder / f"{name}-ft.jsonl"
    tuning.write_bytes(encoded["tuning"])

    def said(r: Any, path: Path) -> tuple[int, str]:
        return r.code, r.err.replace(str(path), "FILE")

    got["batches validate"] = said(oai("batches", "validate", str(batch)), batch)
    r = oai("files", "create", "--purpose", "batch", "--file", str(batch))
    got["files create"] = (r.code, None)
    got["fine-tuning validate"] = said(oai("fine-tuning", "validate", str(tuning)), tuning)
    out = folder / f"{name}-map.jsonl"
    r = oai("map", str(batch), "-O", str(out))
    got["map"] = (
        r.code,
        [x["response"]["echo"] for x in records(out)],
    )
    out = folder / f"{name}-run.jsonl"
    r = oai("batches", "run", str(batch), "--wait", "-O", str(out))
    got["batches run"] = (
        r.code,
        [(x["custom_id"], x["response"]["body"]["echo"]) for x in records(out)],
    )
    return got


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(words, min_size=1, max_size=4), ascii_only=st.booleans())
def test_every_jsonl_command_reads_every_encoding_alike(
    oai: Oai,
    fast_polls: Path,
    tmp_path_factory: pytest.TempPathFactory,
    texts: list[str],
    ascii_only: bool,
) -> None:
    folder = tmp_path_factory.mktemp("encodings")
    before = set(oai.state.files)
    batch = jsonl(batch_lines(texts), ascii_only)
    tuning = jsonl(examples(texts), ascii_only)
    results = {
        label: run_all(
            oai, folder, label.replace(" ", "-"), {"batch": enc(batch), "tuning": enc(tuning)}
        )
        for label, enc in ENCODINGS.items()
    }
    plain = results["utf-8"]
    for kind, (code, _) in plain.items():
        assert code == 0, (kind, plain)
    assert [m["content"] for e in plain["map"][1] for m in e["messages"]] == texts
    for label, got in results.items():
        assert got == plain, label
    # What was uploaded was UTF-8 without a BOM, the same bytes each time.
    uploads = {
        f.content for k, f in oai.state.files.items() if k not in before and f.purpose == "batch"
    }
    assert uploads == {batch.encode("utf-8")}


def test_a_big_utf16_file_is_read_in_little_memory(oai: Oai, tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = batch_lines(["y" * 2000])[0]
    with path.open("wb") as fh:
        fh.write("\ufeff".encode("utf-16-le"))
        for i in range(8000):
            fh.write((json.dumps({**line, "custom_id": f"r{i}"}) + "\n").encode("utf-16-le"))
    size = path.stat().st_size
    assert size > 30_000_000
    tracemalloc.start()
    try:
        r = oai("batches", "validate", str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.code == 0, r
    assert "8000 requests" in r.err, r.err
    # A few chunks of the copy being made, one line and the custom_ids: not the file.
    assert peak < 8 * 1024 * 1024 < size / 3, peak


@pytest.mark.parametrize("label", sorted(ENCODINGS))
def test_a_dry_run_says_the_upload_is_not_the_file_as_it_is(
    oai: Oai, tmp_path: Path, label: str
) -> None:
    # The request shown names the file, and its curl would send the file's bytes;
    # oai sends the UTF-8 copy, and says so.
    path = tmp_path / "in.jsonl"
    path.write_bytes(ENCODINGS[label](jsonl(batch_lines(["hi"]), ascii_only=True)))
    r = oai("files", "create", "--purpose", "batch", "--file", str(path), "--dry-run")
    assert r.code == 0, r
    assert f"-F file=@{path}" in json.loads(r.out)["curl"]
    noted = f"note: {path} has a byte-order mark; oai sends it as UTF-8 without one"
    assert (noted in r.err) == (label != "utf-8"), r.err
