"""Every request the CLI makes goes through one function: ``openai_cli.api.send``.

A module that called the HTTP client's request methods itself could send a
request the rest do not (without the command's query, headers or retries), as
``--wait``'s polls once did. This scan fails on any such call outside the send
module and the client itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import openai_cli

PACKAGE = Path(openai_cli.__file__).parent
# The one send path, and the client whose methods it calls.
SENDERS = {"api/send.py", "http/client.py"}
# The HTTP client's request methods; an httpx client's also has the verbs.
METHODS = frozenset({"request", "stream", "send", "build", "build_request"})
VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
HTTPX_SENDERS = frozenset({"Client", "AsyncClient"} | METHODS | VERBS)


def _names(node: ast.expr) -> list[str]:
    names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    return names + [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]


def _is_client(node: ast.expr) -> bool:
    """Whether ``node`` names a client (``self.client``, ``factory.client()``, ``http``)."""
    return any("client" in n.lower() or n.lower() in ("http", "_http") for n in _names(node))


def _is_httpx_client(node: ast.expr) -> bool:
    return any(n.lower() in ("http", "_http") for n in _names(node))


def direct_sends(root: Path) -> list[str]:
    """``file:line: text`` of each use of a request method outside the send path."""
    found: list[tuple[str, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in SENDERS or rel.startswith("api/catalogue/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            receiver = node.value
            if isinstance(receiver, ast.Name) and receiver.id == "httpx":
                hit = node.attr in HTTPX_SENDERS
            else:
                hit = (node.attr in METHODS and _is_client(receiver)) or (
                    node.attr in VERBS and _is_httpx_client(receiver)
                )
            if hit:
                found.append((rel, node.lineno, ast.unparse(node)))
    return [f"{rel}:{line}: {text}" for rel, line, text in sorted(found)]


def test_only_the_send_module_calls_the_http_client() -> None:
    assert direct_sends(PACKAGE) == []


def test_the_scan_finds_a_direct_call(tmp_path: Path) -> None:
    (tmp_path / "commands").mkdir()
    # The last line sends nothing: a Request's field, a spec's builder, a dict of clients.
    (tmp_path / "commands" / "x.py").write_text(
        "def f(factory, path):\n"
        "    factory.client().request('GET', path)\n"
        "    with client.stream('GET', path) as r:\n"
        "        pass\n"
        "    poll = self.client.request\n"
        "    httpx.get(path)\n"
        "    http.get(path)\n"
        "    req.stream, spec.request(factory, {}), self._clients.get(True)\n",
        encoding="utf-8",
    )
    assert direct_sends(tmp_path) == [
        "commands/x.py:2: factory.client().request",
        "commands/x.py:3: client.stream",
        "commands/x.py:5: self.client.request",
        "commands/x.py:6: httpx.get",
        "commands/x.py:7: http.get",
    ]
