"""The reader's limit holds at the byte, whatever the source: a property over sizes and kinds.

``webhooks verify --headers`` is the use with the smallest limit that runs without a
server (1 MiB): headers of any size up to the limit verify, one byte more is exit 2
naming the flag and the limit, whether they come from a file, stdin or a FIFO.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import tempfile
import threading
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openai_cli.input import reader
from tests.helpers import invoke

KEY = b"limit-signing-key-0123456789abcd"
ENV = {"OPENAI_WEBHOOK_SECRET": "whsec_" + base64.b64encode(KEY).decode()}
BODY = b'{"id": "evt_1", "object": "event", "type": "batch.completed", "data": {}}'
LIMIT = reader.WEBHOOK_HEADERS.limit


def headers_of(size: int) -> bytes:
    """Signed headers, padded with one more header to exactly ``size`` bytes."""
    stamp = str(int(time.time()))
    mac = hmac.new(KEY, f"msg_1.{stamp}.".encode() + BODY, hashlib.sha256).digest()
    head = (
        f"webhook-id: msg_1\nwebhook-timestamp: {stamp}\n"
        f"webhook-signature: v1,{base64.b64encode(mac).decode()}\nx-pad: "
    ).encode()
    return head + b"a" * (size - len(head) - 1) + b"\n"


def run(kind: str, data: bytes, folder: Path) -> tuple[int, str]:
    payload = folder / "payload.json"
    payload.write_bytes(BODY)
    if kind == "stdin":
        r = invoke("webhooks", "verify", "--headers", "-", str(payload), input=data, env=ENV)
        return r.code, r.err
    path = folder / "headers.txt"
    writer = None
    if kind == "file":
        path.write_bytes(data)
    else:
        os.mkfifo(path)

        def write() -> None:
            try:
                with open(path, "wb") as fh:
                    fh.write(data)
            except BrokenPipeError:
                pass  # the reader stopped at its limit

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
    r = invoke("webhooks", "verify", "--headers", str(path), str(payload), env=ENV)
    if writer is not None:
        writer.join(10)
    return r.code, r.err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["file", "stdin", "fifo"]),
    size=st.one_of(
        st.integers(LIMIT - 64, LIMIT + 64),
        st.sampled_from([LIMIT, LIMIT + 1]),
        st.integers(400, 4096),
        st.integers(LIMIT + 1, 3 * LIMIT),
    ),
)
def test_the_limit_holds_at_the_byte_whatever_the_source(kind: str, size: int) -> None:
    data = headers_of(size)
    assert len(data) == size
    # Not under tmp_path: the canary reads every file there, and a FIFO would block it.
    with tempfile.TemporaryDirectory() as folder:
        code, err = run(kind, data, Path(folder))
    if size <= LIMIT:
        assert (code, err) == (0, "valid webhook msg_1\n")
    else:
        assert code == 2, err
        assert "--headers: " in err and "larger than 1 MiB" in err
        assert len(err.strip().splitlines()) == 1
