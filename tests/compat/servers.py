"""What servers that are not the OpenAI API send: the framings of their event streams.

Built on the scriptable server of the fault suite (:mod:`tests.faults.server`);
each framing here is one a real server has shipped (llama.cpp, LiteLLM, vLLM,
Ollama, gateways), written out as the bytes it puts on the wire.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from tests.faults.server import Action, Exchange

REQUEST_ID = "req_compat"
# The answer every stream carries, cut into the pieces the server sends.
PIECES = ("Hello", ", wör", "ld! ", "🙂")
TEXT = "".join(PIECES)
USAGE = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
DONE = b"data: [DONE]\n\n"


def data(payload: Any) -> bytes:
    """One event as most servers write it: a data line and a blank line."""
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def chat_chunks(label: dict[str, Any], *, finish: bool = True) -> list[bytes]:
    """A chat answer: the role, the text in pieces, then the chunk with the finish_reason."""

    def chunk(delta: dict[str, Any], reason: str | None = None) -> bytes:
        return data({**label, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]})

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": p}) for p in PIECES]
    if finish:
        out.append(chunk({}, "stop"))
    return out


def completion_chunks(label: dict[str, Any], *, finish: bool = True) -> list[bytes]:
    """A legacy completions answer: the text in pieces, the last with its finish_reason."""
    last = len(PIECES) - 1
    return [
        data(
            {
                **label,
                "choices": [
                    {
                        "index": 0,
                        "text": p,
                        "finish_reason": "stop" if finish and i == last else None,
                    }
                ],
            }
        )
        for i, p in enumerate(PIECES)
    ]


def response_events(*, names: bool = True) -> list[bytes]:
    """A Responses answer from response.created to response.completed."""

    def ev(kind: str, **fields: Any) -> bytes:
        head = f"event: {kind}\n".encode() if names else b""
        return head + data({"type": kind, **fields})

    response = {"id": "resp_compat", "object": "response", "status": "in_progress"}
    out = [ev("response.created", response=response)]
    out += [ev("response.output_text.delta", delta=p, output_index=0) for p in PIECES]
    done = {**response, "status": "completed", "usage": USAGE}
    out.append(ev("response.completed", response=done))
    return out


def crlf(chunks: Sequence[bytes]) -> list[bytes]:
    return [c.replace(b"\n", b"\r\n") for c in chunks]


def gzip_sse(chunks: Iterable[bytes], *, request_id: str = REQUEST_ID) -> Action:
    """An event stream sent gzip-encoded, the compressor flushed after every event."""
    items = list(chunks)

    def act(ex: Exchange) -> None:
        ex.head(
            200,
            [
                ("Content-Type", "text/event-stream"),
                ("Content-Encoding", "gzip"),
                ("x-request-id", request_id),
            ],
            chunked=True,
        )
        packer = zlib.compressobj(wbits=31)  # 31: the gzip container
        for c in items:
            ex.chunk(packer.compress(c) + packer.flush(zlib.Z_SYNC_FLUSH))
        ex.chunk(packer.flush())
        ex.end_chunks()

    return act
