"""One reader of answers' bodies and one parser of Retry-After.

What an error answer says is read by ``http/errorbody.py`` (``api_error``, used by
the client, ``map`` and the Realtime handshake) and an answer's JSON by
``operations/send.py`` (``answer_json``); how long a server asks to wait is read by
``http/retry.py``. A module that decodes an answer's body or reads a
``Retry-After`` header itself drifts from them (``map`` once reported errors
without redaction or the hint naming the key's source, and ignored an HTTP date),
so the checks below look at what the code does: a JSON decode whose input comes
from an answer's ``text``/``content``/``body`` (directly, or through a local
name), a ``.json()`` call, or the header's name as a string.
"""

from __future__ import annotations

import ast
from pathlib import Path

import openai_cli

PACKAGE = Path(openai_cli.__file__).parent
ROOT = PACKAGE.parent

# The readers themselves.
BODY_READERS = {"openai_cli/operations/send.py", "openai_cli/http/errorbody.py"}
RETRY_AFTER_READER = "openai_cli/http/retry.py"

_ANSWER_PARTS = frozenset({"text", "content", "body"})
_RETRY_AFTER = frozenset({"retry-after", "retry-after-ms"})


def _is_json_decode(call: ast.Call) -> bool:
    f = call.func
    if isinstance(f, ast.Attribute) and f.attr in ("loads", "load"):
        return isinstance(f.value, ast.Name) and f.value.id == "json"
    return isinstance(f, ast.Name) and f.id == "loads"


def _from_answer(node: ast.AST, tainted: set[str]) -> bool:
    """Whether ``node`` reads an answer's body, or a name that holds one."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in _ANSWER_PARTS:
            return True
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return True
    return False


def _tainted(scope: ast.AST) -> set[str]:
    """Local names assigned (in any number of steps) from an answer's body."""
    assigns = [
        (target.id, node.value)
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]
    names: set[str] = set()
    while True:
        more = {name for name, value in assigns if name not in names and _from_answer(value, names)}
        if not more:
            return names
        names |= more


def bypasses(source: str, where: str) -> list[str]:
    """What in ``source`` reads an answer's body or a Retry-After outside the readers."""
    tree = ast.parse(source)
    found = []
    if where != RETRY_AFTER_READER:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.lower() in _RETRY_AFTER
            ):
                found.append(f"{where}:{node.lineno}: reads {node.value} itself")
    if where not in BODY_READERS:
        scopes = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for scope in [tree, *scopes]:
            tainted = _tainted(scope)
            for node in ast.walk(scope):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                if isinstance(f, ast.Attribute) and f.attr == "json" and not node.args:
                    found.append(f"{where}:{node.lineno}: decodes an answer with .json()")
                elif _is_json_decode(node) and any(_from_answer(a, tainted) for a in node.args):
                    found.append(f"{where}:{node.lineno}: decodes an answer's body itself")
    return sorted(set(found))


def test_no_module_reads_an_answer_or_retry_after_around_the_readers() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if where.startswith("openai_cli/operations/catalogue/"):
            continue  # generated data
        found += bypasses(path.read_text(encoding="utf-8"), where)
    assert found == []


# The readers that were replaced, as they were: each must still be caught.
BYPASSES = {
    "an error body decoded by hand (map)": """
def _error_of(resp):
    out = {"status": resp.status_code}
    try:
        data = json.loads(resp.content)
    except ValueError:
        data = None
    err = data.get("error") if isinstance(data, dict) else None
    return out
""",
    "a body decoded through a local name (the Realtime handshake)": """
def _status_error(exc, settings):
    response = exc.response
    body = bytes(response.body or b"").decode("utf-8", "replace")
    data = json.loads(body)
    return data.get("error", data)
""",
    "an answer's own .json() (live text)": """
def print_answer_text(factory, resp, sink):
    payload = resp.json()
""",
    "Retry-After read by hand (map's pause after a 429)": """
def _wait_after_429(headers, attempt):
    ms = _number(headers, "retry-after-ms")
    after = headers.get("Retry-After")
""",
    "a whole answer decoded at module level": """
page = json.loads(client.get("/models").text)
""",
}


def test_the_check_catches_each_way_around() -> None:
    for name, source in BYPASSES.items():
        assert bypasses(source, "openai_cli/commands/sample.py"), name
    # The same code in the reader is the reader.
    assert not bypasses(
        BYPASSES["an error body decoded by hand (map)"], "openai_cli/operations/send.py"
    )
    # Decoding what is not an answer (a file, an event's data) is not reading one.
    assert not bypasses(
        "def f(path, sse):\n    a = json.loads(path.read_text())\n    b = json.loads(sse.data)\n",
        "openai_cli/commands/sample.py",
    )
