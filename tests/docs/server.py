"""The stateful local API server of tests/scale, with the few endpoints the docs'
examples need to finish and Steady cannot: an image to save, a video that is done
on the second poll, one embedding per input."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from typing import Any, ClassVar

from tests.scale.server import ApiState, Handler, Server, start

# A 1x1 PNG: what the examples save must be a real image.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


class DocsHandler(Handler):
    polls: ClassVar[dict[str, int]] = {}
    counter: ClassVar[Iterator[int]] = itertools.count(1)

    def _route(
        self, method: str, path: str, query: dict[str, str]
    ) -> tuple[Any, dict[str, str] | None]:
        parts = path.strip("/").split("/")
        if method == "POST" and parts[0] == "images":
            if "multipart" in self.headers.get("content-type", ""):
                self._multipart(keep_files=False)
            else:
                self._json_body()
            image = {"b64_json": base64.b64encode(PNG).decode()}
            return {"created": 1, "data": [image]}, None
        if method == "POST" and parts == ["embeddings"]:
            body = self._json_body()
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [
                {"object": "embedding", "index": i, "embedding": [0.5, float(i)]}
                for i in range(len(inputs))
            ]
            usage = {"prompt_tokens": 1, "total_tokens": 1}
            return {"object": "list", "data": data, "model": body["model"], "usage": usage}, None
        if method == "GET" and parts == ["organization", "projects"]:
            return self._projects(query), None
        if parts[0] == "videos":
            return self._videos(method, parts), None
        return super()._route(method, path, query)

    @staticmethod
    def _projects(query: dict[str, str]) -> dict[str, Any]:
        """Two projects, one a page, so that ``--all`` has a page to follow."""
        projects = [
            {
                "id": f"proj_{n}",
                "object": "organization.project",
                "name": f"project {n}",
                "created_at": 1,
                "archived_at": None,
                "status": "active",
            }
            for n in (1, 2)
        ]
        after = query.get("after")
        start = next((i + 1 for i, p in enumerate(projects) if p["id"] == after), 0)
        page = projects[start : start + 1]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": start + 1 < len(projects),
        }

    def _videos(self, method: str, parts: list[str]) -> Any:
        if method == "POST" and len(parts) == 1:
            if "multipart" in self.headers.get("content-type", ""):
                self._multipart(keep_files=False)
            else:
                self._json_body()
            video_id = f"video_{next(self.counter):06d}"
            self.polls[video_id] = 0
            return self._video(video_id, "queued")
        if method == "GET" and len(parts) == 2 and parts[1] in self.polls:
            self.polls[parts[1]] += 1
            return self._video(parts[1], "completed" if self.polls[parts[1]] > 1 else "in_progress")
        if method == "GET" and len(parts) == 3 and parts[2] == "content":
            return MP4
        return super()._route(method, "/" + "/".join(parts), {})[0]

    @staticmethod
    def _video(video_id: str, status: str) -> dict[str, Any]:
        done = status == "completed"
        return {
            "id": video_id,
            "object": "video",
            "created_at": 1,
            "status": status,
            "model": "sora-2",
            "progress": 100 if done else 0,
            "seconds": "4",
            "size": "720x1280",
            "completed_at": 2 if done else None,
            "expires_at": None,
            "error": None,
            "remixed_from_video_id": None,
        }


def start_docs_server() -> Server:
    server = start(ApiState())
    server.RequestHandlerClass = DocsHandler
    return server
