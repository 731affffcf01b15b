"""Downloads go to disk a chunk at a time, with a bar on a terminal only."""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path

import respx

from openai_cli.io import IO
from openai_cli.main import run
from openai_cli.progress import Progress, human_bytes
from tests.canary import check_run
from tests.helpers import BASE, api_env, invoke, temporaries
from tests.scale.conftest import Oai
from tests.scale.server import FileRec


def stored(oai: Oai, content: bytes) -> str:
    rec = FileRec("file-big", "big.bin", "assistants", len(content), 0, content)
    oai.state.files[rec.id] = rec
    return rec.id


def direct(oai: Oai, *args: str, stderr_tty: bool = False) -> tuple[int, bytes, str]:
    """``oai ARGS`` through the entry point, without the canary's scan of written files

    (which reads them whole, and would be what a memory measurement sees).
    """
    out_buf = io.BytesIO()
    out = io.TextIOWrapper(out_buf, encoding="utf-8", write_through=True)
    err = io.StringIO()
    env = {**os.environ, **oai.env}
    the_io = IO(stdin=io.StringIO(), stdout=out, stderr=err, env=env, stderr_tty=stderr_tty)
    code = run(list(args), the_io)
    check_run(args, stdout=out_buf.getvalue(), stderr=err.getvalue())
    return code, out_buf.getvalue(), err.getvalue()


def test_file_content_is_streamed_to_disk(oai: Oai, tmp_path: Path) -> None:
    content = os.urandom(1 << 20) * 24  # 24 MiB
    file_id = stored(oai, content)
    target = tmp_path / "copy.bin"
    tracemalloc.start()
    try:
        code, _, err = direct(oai, "files", "content", file_id, "--output-file", str(target))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0, err
    assert target.read_bytes() == content
    assert temporaries(tmp_path) == []
    assert f"saved {len(content)} bytes to {target}" in err
    # A few chunks at a time, never the file.
    assert peak < len(content) / 3, peak


def test_piped_stdout_gets_the_bytes(oai: Oai) -> None:
    content = b"\x00\x01" * 1000
    file_id = stored(oai, content)
    r = oai("files", "content", file_id)
    assert r.code == 0, r
    assert r.out_bytes == content
    assert r.err == ""


def test_container_file_content() -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        mock.get("/containers/cntr_1/files/cfile_1/content").respond(
            200, content=b"PK\x03\x04zip", headers={"content-type": "application/zip"}
        )
        r = invoke("containers", "files", "content", "retrieve", "cntr_1", "cfile_1", env=api_env())
    assert r.code == 0, r
    assert r.out_bytes == b"PK\x03\x04zip"


def test_a_bar_on_a_terminal_and_only_there(oai: Oai, tmp_path: Path) -> None:
    content = os.urandom(300_000)
    file_id = stored(oai, content)
    target = tmp_path / "copy.bin"
    args = ("files", "content", file_id, "--output-file", str(target))
    code, out, err = direct(oai, *args, stderr_tty=True)
    assert code == 0, err
    assert target.read_bytes() == content
    assert "downloading to" in err
    assert out == b""


def test_progress_is_silent_off_a_terminal() -> None:
    err = io.StringIO()
    the_io = IO(stdin=io.StringIO(), stdout=io.StringIO(), stderr=err, env={})
    with Progress(the_io, "x", total=10) as bar:
        bar.advance(5)
        assert not bar.shown
    assert err.getvalue() == ""
    quiet = IO(
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=err,
        env={"OAI_NO_PROGRESS": "1"},
        stderr_tty=True,
    )
    assert not Progress(quiet, "x").shown


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(2048) == "2.0 KiB"
    assert human_bytes(3 * 1024**3) == "3.0 GiB"
    assert human_bytes(5 * 1024**4) == "5.0 TiB"
