"""`oai files create`: simple and chunked uploads, retries, cancel and resume."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from openai_cli.operations import uploads
from tests.scale.conftest import Oai

PART = 1000


def batch_lines(n: int, pad: int = 0) -> bytes:
    return b"".join(
        json.dumps(
            {
                "custom_id": f"r{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "m", "messages": [{"role": "user", "content": "x" * pad}]},
            }
        ).encode()
        + b"\n"
        for i in range(1, n + 1)
    )


def random_file(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    """data.bin of ``size`` random bytes, and those bytes."""
    data = os.urandom(size)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    return path, data


def in_parts(path: Path, flag: str) -> tuple[str, ...]:
    """``oai files create`` of ``path`` with ``--chunked`` or ``--resume``, one PART at a time."""
    return (
        "files", "create", "--file", str(path), "--purpose", "assistants", flag,
        "--part-size", str(PART), "--concurrency", "1",
    )  # fmt: skip


def part_digests(data: bytes, size: int) -> list[str]:
    return [hashlib.md5(data[i : i + size]).hexdigest() for i in range(0, len(data), size)]


def accepted_parts(oai: Oai) -> list[str]:
    return sorted(p.md5 for p in oai.state.parts.values())


def part_posts(oai: Oai) -> int:
    return sum(1 for m, p in oai.state.log if m == "POST" and p.endswith("/parts"))


def the_file(oai: Oai, out: str) -> bytes:
    file_id = json.loads(out)["id"]
    content = oai.state.files[file_id].content
    assert content is not None
    return content


def test_small_file_is_one_multipart_request(oai: Oai, tmp_path: Path) -> None:
    data = batch_lines(5)
    path = tmp_path / "requests.jsonl"
    path.write_bytes(data)
    r = oai("files", "create", "--file", str(path), "--purpose", "batch")
    assert r.code == 0, r
    assert the_file(oai, r.out) == data
    assert oai.state.log == [("POST", "/files")]
    assert json.loads(r.out)["filename"] == "requests.jsonl"
    # Piped stderr gets no progress bar.
    assert r.err == ""


def test_stdin_is_uploaded_whole_and_named_for_its_purpose(oai: Oai) -> None:
    data = batch_lines(3)
    r = oai("files", "create", "--file", "-", "--purpose", "batch", input=data)
    assert r.code == 0, r
    assert the_file(oai, r.out) == data
    assert json.loads(r.out)["filename"] == "stdin.jsonl"


def test_stdin_keeps_a_given_filename(oai: Oai) -> None:
    r = oai(
        "files", "create", "--file", "-", "--purpose", "assistants", "--filename", "notes.txt",
        input=b"hello",
    )  # fmt: skip
    assert r.code == 0, r
    assert json.loads(r.out)["filename"] == "notes.txt"
    assert the_file(oai, r.out) == b"hello"


def test_chunked_upload_sends_parts_in_order_with_the_md5(oai: Oai, tmp_path: Path) -> None:
    data = batch_lines(40)
    path = tmp_path / "big.jsonl"
    path.write_bytes(data)
    r = oai(
        "files", "create", "--file", str(path), "--purpose", "batch", "--chunked",
        "--part-size", str(PART), "--concurrency", "3",
    )  # fmt: skip
    assert r.code == 0, r
    n = -(-len(data) // PART)
    assert n >= 3
    # The server joined the parts in the order given and checked the MD5 sent.
    assert the_file(oai, r.out) == data
    assert accepted_parts(oai) == sorted(part_digests(data, PART))
    assert part_posts(oai) == n
    assert [p for m, p in oai.state.log if not p.endswith("/parts")] == [
        "/uploads",
        "/uploads/upload_000001/complete",
    ]
    upload = oai.state.uploads["upload_000001"]
    assert (upload.bytes, upload.purpose, upload.mime_type) == (len(data), "batch", "text/jsonl")
    assert f"in {n} parts" in r.err


def test_parts_go_out_in_parallel(oai: Oai, tmp_path: Path) -> None:
    oai.state.part_delay = 0.2
    path, _ = random_file(tmp_path, 8 * PART)
    r = oai(
        "files", "create", "--file", str(path), "--purpose", "assistants", "--chunked",
        "--part-size", str(PART), "--concurrency", "4",
    )  # fmt: skip
    assert r.code == 0, r
    assert oai.state.most_active_parts == 4


def test_stdin_can_be_chunked(oai: Oai) -> None:
    data = os.urandom(3 * PART + 7)
    r = oai(
        "files", "create", "--file", "-", "--purpose", "assistants", "--chunked",
        "--part-size", str(PART), input=data,
    )  # fmt: skip
    assert r.code == 0, r
    assert the_file(oai, r.out) == data
    assert part_posts(oai) == 4


def test_big_files_go_through_the_uploads_api_without_asking(
    oai: Oai, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "SIMPLE_LIMIT", 2 * PART)
    monkeypatch.setattr(uploads, "PART_SIZE", PART)
    path, data = random_file(tmp_path, 2 * PART + 1)
    r = oai("files", "create", "--file", str(path), "--purpose", "vision")
    assert r.code == 0, r
    assert the_file(oai, r.out) == data
    assert part_posts(oai) == 3


def test_without_resume_a_failed_upload_is_cancelled(oai: Oai, tmp_path: Path) -> None:
    path, _ = random_file(tmp_path, 3 * PART)
    oai.state.faults["POST /uploads/upload_000001/parts"] = [None, 500]
    r = oai(*in_parts(path, "--chunked"))
    assert r.code == 6, r
    assert "upload upload_000001 cancelled" in r.err
    assert oai.state.uploads["upload_000001"].status == "cancelled"
    assert ("POST", "/uploads/upload_000001/complete") not in oai.state.log


def test_each_part_is_retried_on_its_own(oai: Oai, tmp_path: Path) -> None:
    path, data = random_file(tmp_path, 3 * PART)
    # The second part meets a 503, the third loses its answer: each is sent again,
    # alone, and the file comes out whole.
    oai.state.flaky["POST /uploads/upload_000001/parts"] = [None, 503]
    oai.state.lose["POST /uploads/upload_000001/parts"] = 0
    r = oai(*in_parts(path, "--chunked"))
    assert r.code == 0, r
    assert "HTTP 503" in r.err and "retrying" in r.err
    assert part_posts(oai) == 4
    assert accepted_parts(oai) == sorted(part_digests(data, PART))
    assert the_file(oai, r.out) == data


def test_a_lost_answer_does_not_make_a_second_part(oai: Oai, tmp_path: Path) -> None:
    path, data = random_file(tmp_path, 2 * PART)
    # The server takes the first part but the answer never arrives; the retry
    # carries the same Idempotency-Key, so the server answers it with that part.
    oai.state.lose["POST /uploads/upload_000001/parts"] = 1
    r = oai(*in_parts(path, "--chunked"))
    assert r.code == 0, r
    assert part_posts(oai) == 3
    assert len(oai.state.parts) == 2
    assert the_file(oai, r.out) == data


def test_failure_with_resume_keeps_the_upload_and_the_rerun_sends_only_the_rest(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    path, data = random_file(tmp_path, 3 * PART)
    args = in_parts(path, "--resume")
    # Two parts go through, the third is refused.
    oai.state.faults["POST /uploads/upload_000001/parts"] = [None, None, 500]
    broken = oai(*args)
    assert broken.code == 6, broken
    assert "upload upload_000001 kept (2 of 3 parts sent)" in broken.err
    assert "run the same command again with --resume" in broken.err
    assert oai.state.uploads["upload_000001"].status == "pending"
    assert len(list((fast_polls / "uploads").glob("*.json"))) == 1
    assert len(oai.state.parts) == 2
    posts_before = part_posts(oai)

    again = oai(*args)
    assert again.code == 0, again
    assert "resuming upload upload_000001: 2 of 3 parts already sent" in again.err
    # Only the missing part went out; no part was accepted twice; the file is whole.
    assert part_posts(oai) == posts_before + 1
    assert accepted_parts(oai) == sorted(part_digests(data, PART))
    assert the_file(oai, again.out) == data
    assert list(oai.state.uploads) == ["upload_000001"]
    assert not list((fast_polls / "uploads").glob("*.json"))


def test_a_one_part_upload_is_counted_as_one_part(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    path, data = random_file(tmp_path, PART)
    args = in_parts(path, "--resume")
    oai.state.faults["POST /uploads/upload_000001/parts"] = [500]
    broken = oai(*args)
    assert broken.code == 6, broken
    assert "upload upload_000001 kept (0 of 1 part sent)" in broken.err
    again = oai(*args)
    assert again.code == 0, again
    assert "resuming upload upload_000001: 0 of 1 part already sent" in again.err
    assert the_file(oai, again.out) == data


def test_an_expired_upload_is_started_again(oai: Oai, tmp_path: Path, fast_polls: Path) -> None:
    path, data = random_file(tmp_path, 2 * PART)
    args = in_parts(path, "--resume")
    oai.state.faults["POST /uploads/upload_000001/complete"] = [500]
    assert oai(*args).code == 6
    (state,) = (fast_polls / "uploads").glob("*.json")
    saved = json.loads(state.read_text())
    saved["expires_at"] = time.time() - 10
    state.write_text(json.dumps(saved))
    r = oai(*args)
    assert r.code == 0, r
    assert "has expired" in r.err
    assert len(oai.state.uploads) == 2
    assert the_file(oai, r.out) == data


def test_an_upload_the_server_forgot_is_started_again(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    path, data = random_file(tmp_path, 2 * PART)
    args = in_parts(path, "--resume")
    oai.state.faults["POST /uploads/upload_000001/complete"] = [500]
    assert oai(*args).code == 6
    del oai.state.uploads["upload_000001"]
    r = oai(*args)
    assert r.code == 0, r
    assert "no longer usable (HTTP 404" in r.err
    assert the_file(oai, r.out) == data


def test_ctrl_c_keeps_a_resumable_upload_and_no_part_is_sent_twice(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    path, data = random_file(tmp_path, 3 * PART)
    args = in_parts(path, "--resume")
    # The first two parts are answered; the third never is, until Ctrl-C.
    oai.state.hold["POST /uploads/upload_000001/parts"] = 2
    code, err = oai.interrupted(
        *args, never_held="the third part never arrived", OAI_STATE_DIR=str(fast_polls)
    )
    assert code == 130, err
    assert b"kept (2 of 3 parts sent)" in err
    assert b"oai: interrupted" in err
    assert oai.state.uploads["upload_000001"].status == "pending"
    assert len(oai.state.parts) == 2
    del oai.state.hold["POST /uploads/upload_000001/parts"]

    r = oai(*args)
    assert r.code == 0, r
    assert "2 of 3 parts already sent" in r.err
    assert accepted_parts(oai) == sorted(part_digests(data, PART))
    assert the_file(oai, r.out) == data
    assert len(oai.state.uploads) == 1


def test_resume_needs_a_file_not_stdin(oai: Oai) -> None:
    r = oai("files", "create", "--file", "-", "--purpose", "assistants", "--resume", input=b"x")
    assert r.code == 2
    assert "--resume needs a file path" in r.err
    assert oai.state.log == []


def test_limits_are_checked_before_anything_is_sent(oai: Oai, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        fh.truncate(uploads.MAX_UPLOAD_BYTES + 1)  # sparse: no disk used
    r = oai("files", "create", "--file", str(big), "--purpose", "assistants")
    assert r.code == 2
    assert "at most 8 GiB" in r.err
    small = tmp_path / "small.bin"
    small.write_bytes(b"x")
    r = oai(
        "files", "create", "--file", str(small), "--purpose", "assistants", "--chunked",
        "--part-size", "65MiB",
    )  # fmt: skip
    assert r.code == 2
    assert "at most 64 MiB" in r.err
    r = oai("files", "create", "--file", str(small), "--purpose", "user_data", "--chunked")
    assert r.code == 2
    assert "Uploads API, which takes purpose" in r.err
    assert oai.state.log == []


def test_chunked_dry_run_shows_the_plan(oai: Oai, tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * (2 * PART + 1))
    r = oai(
        "files", "create", "--file", str(path), "--purpose", "assistants", "--chunked",
        "--part-size", str(PART), "--dry-run", "-o", "json",
    )  # fmt: skip
    assert r.code == 0, r
    plan = json.loads(r.out)
    assert plan["body"] == {
        "filename": "data.bin",
        "purpose": "assistants",
        "bytes": 2 * PART + 1,
        "mime_type": "application/octet-stream",
    }
    assert "x 3 " in plan["then"][0]
    assert oai.state.log == []


def test_range_reader_reads_only_its_range_and_counts_once(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * 4)
    seen: list[int] = []
    with uploads.RangeReader(str(path), 10, 100, on_read=seen.append) as r:
        assert r.seek(0, os.SEEK_END) == 100
        r.seek(0)
        # Reads are of 1 MiB at least (httpx takes what it gets), never past the range.
        assert r.read(30) == bytes(range(10, 110))
        assert r.read() == b""
        r.seek(0)  # a rewind takes back what was counted
        assert r.read() == bytes(range(10, 110))
        r.seek(20)
    assert seen == [100, -100, 100, -80]
    assert not hasattr(r, "fileno")


def test_parts_of() -> None:
    assert uploads.parts_of(0, 10) == [(0, 0)]
    assert uploads.parts_of(25, 10) == [(0, 10), (10, 10), (20, 5)]
    assert uploads.parts_of(20, 10) == [(0, 10), (10, 10)]
