"""Every request the CLI makes goes through one function: ``openai_cli.operations.send``.

A module that called the HTTP client's request methods itself could send a
request the rest do not (without the command's query, headers or retries), as
``--wait``'s polls once did. This scan fails on any such call outside the send
module and the client itself.

It follows values, not names: a value is a client when the code says so, that is
when it is a parameter, field or variable annotated ``Client``, the result of a
function declared to return a ``Client`` (``factory.client()``), a ``Client(...)``
built in place, or a name assigned or bound (``with ... as``) from any of these.
Whatever such a value is called, calling its request methods is caught. httpx is
caught as a module: its verbs and its clients.
"""

from __future__ import annotations

import ast
from pathlib import Path

import openai_cli

PACKAGE = Path(openai_cli.__file__).parent
# The one send path, and the client whose methods it calls.
SENDERS = {"operations/send.py", "http/client.py"}
# The HTTP client's request methods; an httpx client's also has the verbs.
METHODS = frozenset({"request", "stream", "send", "build", "build_request"})
VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
HTTPX_SENDERS = frozenset({"Client", "AsyncClient"} | METHODS | VERBS)
CLIENT_TYPES = frozenset({"Client", "AsyncClient"})


def _declares_client(annotation: ast.expr | None) -> bool:
    """Whether an annotation names a client (``Client``, ``Client | None``, ``"Client"``)."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(annotation, ast.Name):
        return annotation.id in CLIENT_TYPES
    if isinstance(annotation, ast.Attribute):
        return annotation.attr in CLIENT_TYPES
    if isinstance(annotation, ast.BinOp):  # Client | None
        return _declares_client(annotation.left) or _declares_client(annotation.right)
    if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", "") == "Optional":
        return _declares_client(annotation.slice)
    # A container of clients (``dict[bool, Client]``) is not one; what comes out of it
    # is looked at where it is bound.
    return False


class _Declarations:
    """What the whole package declares as a client: returning functions and fields."""

    def __init__(self, trees: list[ast.Module]) -> None:
        self.returning: set[str] = set()
        self.fields: set[str] = set()
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    if _declares_client(node.returns):
                        self.returning.add(node.name)
                elif isinstance(node, ast.AnnAssign) and _declares_client(node.annotation):
                    target = node.target
                    if isinstance(target, ast.Attribute):
                        self.fields.add(target.attr)
                    elif isinstance(target, ast.Name):
                        self.fields.add(target.id)


class _Scan(ast.NodeVisitor):
    def __init__(self, decl: _Declarations) -> None:
        self.decl = decl
        self.scopes: list[set[str]] = [set()]
        self.found: list[tuple[int, str]] = []

    # -- which values are clients ----------------------------------------------------

    def _is_client(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return any(node.id in scope for scope in self.scopes)
        if isinstance(node, ast.Attribute):
            return node.attr in self.decl.fields
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in self.decl.returning:
                return True
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                return func.value.id == "httpx" and name in CLIENT_TYPES
            return name in CLIENT_TYPES
        if isinstance(node, ast.Await | ast.NamedExpr):
            return self._is_client(node.value)
        if isinstance(node, ast.IfExp):
            return self._is_client(node.body) or self._is_client(node.orelse)
        if isinstance(node, ast.BoolOp):
            return any(self._is_client(v) for v in node.values)
        return False

    def _bind(self, target: ast.expr, is_client: bool) -> None:
        if isinstance(target, ast.Name):
            if is_client:
                self.scopes[-1].add(target.id)
            else:
                self.scopes[-1].discard(target.id)

    # -- scopes ----------------------------------------------------------------------

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        scope: set[str] = set()
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and _declares_client(arg.annotation):
                scope.add(arg.arg)
        self.scopes.append(scope)
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    # -- bindings --------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._bind(target, self._is_client(node.value))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        declared = _declares_client(node.annotation)
        self._bind(
            node.target, declared or (node.value is not None and self._is_client(node.value))
        )

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._bind(node.target, self._is_client(node.value))

    def _with(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, self._is_client(item.context_expr))
        for stmt in node.body:
            self.visit(stmt)

    visit_With = _with
    visit_AsyncWith = _with

    # -- uses ------------------------------------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> None:
        receiver = node.value
        if isinstance(receiver, ast.Name) and receiver.id == "httpx":
            hit = node.attr in HTTPX_SENDERS
        else:
            hit = node.attr in METHODS | VERBS and self._is_client(receiver)
        if hit:
            self.found.append((node.lineno, ast.unparse(node)))
        self.generic_visit(node)


def direct_sends(root: Path) -> list[str]:
    """``file:line: text`` of each use of a request method outside the send path."""
    paths = [p for p in sorted(root.rglob("*.py")) if "catalogue" not in p.parts]
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in paths}
    decl = _Declarations(list(trees.values()))
    found: list[tuple[str, int, str]] = []
    for path, tree in trees.items():
        rel = path.relative_to(root).as_posix()
        if rel in SENDERS:
            continue
        scan = _Scan(decl)
        scan.visit(tree)
        found += [(rel, line, text) for line, text in scan.found]
    return [f"{rel}:{line}: {text}" for rel, line, text in sorted(found, key=lambda f: f[:2])]


def test_only_the_send_module_calls_the_http_client() -> None:
    assert direct_sends(PACKAGE) == []


def test_the_scan_finds_a_direct_call(tmp_path: Path) -> None:
    (tmp_path / "commands").mkdir()
    (tmp_path / "http").mkdir()
    # What the package declares: a function returning a client, a field holding one.
    (tmp_path / "http" / "decl.py").write_text(
        "class Factory:\n"
        "    def client(self, admin: bool = False) -> Client: ...\n"
        "    def make(self) -> 'Client | None': ...\n"
        "class Holder:\n"
        "    conn: Client\n",
        encoding="utf-8",
    )
    # The last lines send nothing: a Request's field, a spec's builder, a dict's get,
    # a name that once held a client and was rebound, a client-named string.
    (tmp_path / "commands" / "x.py").write_text(
        "def f(factory, path, holder: Holder, given: Client | None):\n"
        "    factory.client().request('GET', path)\n"
        "    c = factory.client()\n"
        "    c.stream('GET', path)\n"
        "    d = c\n"
        "    d.send(path)\n"
        "    holder.conn.build('GET', path)\n"
        "    given.request('GET', path)\n"
        "    with factory.make() as e:\n"
        "        e.stream('GET', path)\n"
        "    httpx.get(path)\n"
        "    with httpx.Client() as h:\n"
        "        h.post(path)\n"
        "    w = Client(settings, io)\n"
        "    w.stream('GET', path)\n"
        "    req.stream, spec.request(factory, {}), self._clients.get(True)\n"
        "    c = 'client'\n"
        "    c.stream, client.stream('GET', path)\n",
        encoding="utf-8",
    )
    assert direct_sends(tmp_path) == [
        "commands/x.py:2: factory.client().request",
        "commands/x.py:4: c.stream",
        "commands/x.py:6: d.send",
        "commands/x.py:7: holder.conn.build",
        "commands/x.py:8: given.request",
        "commands/x.py:10: e.stream",
        "commands/x.py:11: httpx.get",
        "commands/x.py:12: httpx.Client",
        "commands/x.py:13: h.post",
        "commands/x.py:15: w.stream",
    ]
