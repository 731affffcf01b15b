"""No traceback, whatever the command line: the whole CLI run on generated argv.

The argv lists are built from the real command tree (group words, verbs, the flags of
the chosen command, path-argument values) mixed with junk (unicode, control
characters, long strings, ``-``, ``--``, ``@file`` forms, JSON fragments, numbers).
Every request is answered by one catch-all route with a small valid list, so a run
ends however the arguments let it, and nothing reaches a network.

Whatever the input, ``oai`` ends with one of the documented exit codes, never with a
traceback or the "internal error" of ``main.run`` (which marks an exception nobody
foresaw), and a usage error (2) always says something.

The CI runs are derandomized and small; ``OAI_FUZZ_EXAMPLES=5000 pytest
tests/unit/test_cli_fuzz.py`` hunts with more (random, not derandomized).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import pytest
import respx
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from openai_cli.app import build
from openai_cli.input.times import is_unix_time
from openai_cli.operations import catalogue
from openai_cli.operations.model import Operation, Param
from openai_cli.options import OUTPUT_FORMATS
from tests.helpers import Result, api_env, invoke, walk_commands

EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 124, 130}
LIST_BODY = {"object": "list", "data": [], "has_more": False}

_HUNT = int(os.environ.get("OAI_FUZZ_EXAMPLES", "0"))


def _settings(examples: int) -> settings:
    # A hunt (OAI_FUZZ_EXAMPLES) explores new inputs on every run; CI repeats the
    # same ones so a failure there is a failure on every rerun.
    return settings(
        max_examples=_HUNT or examples,
        deadline=None,
        derandomize=not _HUNT,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
        ],
    )


# -- the command tree ----------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    names: tuple[str, ...]
    takes_value: bool
    kind: str = "str"  # the name of the value's type: str, int, float, ...
    metavar: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Node:
    """A command (or group) and what it accepts."""

    path: tuple[str, ...]
    flags: tuple[Flag, ...]
    arguments: int
    required: tuple[Flag, ...] = ()
    children: tuple[str, ...] = ()


# The enum an option's help names ("One of: a, b." / "e.g. a, b, ...").
_ENUM = re.compile(r"(?:One of|e\.g\.): (.+?)(?:, \.\.\.)?[.;](?: |$)")
# The fields a generated command's help lists as required.
_REQUIRED = re.compile(r"^Required: (.+?) \(or give", re.MULTILINE)


def _flags(cmd: TyperCommand | TyperGroup) -> tuple[tuple[Flag, ...], int, tuple[Flag, ...]]:
    flags = []
    arguments = 0
    for p in cmd.params:
        if isinstance(p, TyperOption):
            m = _ENUM.search(p.help or "")
            choices = tuple(m.group(1).split(", ")) if m else ()
            names = (*p.opts, *p.secondary_opts)
            flags.append(Flag(names, not p.is_flag, p.type.name, p.metavar or "", choices))
        elif isinstance(p, TyperArgument):
            arguments += 1
    m = _REQUIRED.search(cmd.help or "")
    wanted = set(m.group(1).split(", ")) if m else set()
    required = tuple(f for f in flags if wanted & set(f.names))
    return tuple(flags), arguments, required


def _walk(group: TyperGroup, ctx: typer.Context, prefix: tuple[str, ...]) -> Iterator[Node]:
    for path, cmd, sub in walk_commands(group, ctx, prefix):
        if isinstance(cmd, TyperGroup):
            yield Node(path, _flags(cmd)[0], 0, children=tuple(cmd.list_commands(sub)))
        else:
            yield Node(path, *_flags(cmd))


@cache
def tree() -> tuple[Node, ...]:
    """Every group and command of the real app, the root first."""
    root = build()
    return tuple(_walk(root, typer.Context(root, info_name="oai"), ()))


@cache
def root_flags() -> tuple[Flag, ...]:
    return tree()[0].flags


@cache
def all_flag_names() -> tuple[str, ...]:
    return tuple(sorted({n for node in tree() for f in node.flags for n in f.names}))


# -- values --------------------------------------------------------------------------

JUNK_WORDS = [
    "", " ", "-", "--", "---", "-x", "--x", "--=", "=", "==", "@", "@-", "@/nonexistent",
    "@.", "@@", "@/", ".", "/", "..", "~", "{", "}", "[", "]", "[1,", '{"a":', '{"a": 1}',
    "[1, 2]", "null", "true", "false", "nan", "NaN", "inf", "-inf", "1e999", "-0", "0",
    "-1", "1.5", "0x10", "1_000", "9" * 40, "-" + "9" * 40, "\x7f", "\x1b[31m", "\n",
    "\r\n", "\t", "\u2028", "\ufeff", "é", "\U0001f600", "\udcff", "a=b", "a=", "=b",
    "a.b=c", "a[]=x", "a[=1", "a]=1", "[]=1", "a..b=1", "a[0]=1", ".a=1", "a.=1",
    "a=@-", "a=@/nonexistent", "a={", "a=[1,", "x" * 5000, "%s", "{0}", "%(x)s",
    "file-abc123", "asst_123", "gpt-4o", "a/b", "a?b", "a#b", "a%2F", "-o", "-h",
    "--help", "--version", "--debug", "--dry-run", "--no-", "-F", "-f", "--body",
    "https://[::1/v1", "https://h.test:99999/v1", "https://xn--/v1", "https://a..b/v1",
    "http://example.com/v1", "https://h.test/v1\x1f", "X-A: \u00e9", "X A: b", "X-A: a\nb",
]  # fmt: skip
# No NUL (no process can receive one in an argument or the environment) and no
# surrogates but the escaped bytes of JUNK_WORDS ("\udcff", which a process can get).
CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
JSON_BITS = ["{", "[", '"', ":", ",", "1", "}", "]", "a", "=", "@", ".", "-"]
JUNK = st.one_of(
    st.sampled_from(JUNK_WORDS),
    st.text(CHARS, max_size=30),
    st.text(CHARS, min_size=200, max_size=2000),
    st.integers().map(str),
    st.floats().map(str),
    st.lists(st.sampled_from(JSON_BITS), max_size=12).map("".join),
)
GOOD_VALUES = st.sampled_from(
    [
        "file-abc123", "gpt-4o-mini", "hello", "1", "10", "0.5", "true", "json", "jsonl",
        "yaml", "table", "raw", "auto", '{"a": 1}', "[1, 2]", "asc", "desc", "7d", "90s",
        "user_data", "batch", "fine-tune",
    ]
)  # fmt: skip
FIELD_VALUES = st.one_of(
    st.tuples(st.sampled_from(["model", "input", "a", "a.b", "a[]", "metadata.k", ""]), JUNK).map(
        "=".join
    ),
    JUNK,
)


# Files the fuzzed commands may name; the fake_api fixture writes them.
FILES = {
    "input.jsonl": '{"custom_id": "a", "method": "POST", "url": "/v1/embeddings", '
    '"body": {"model": "m", "input": "x"}}\n',
    "prompt.txt": "hello\n",
    "body.json": '{"model": "gpt-4o-mini", "input": "hi"}',
    "audio.mp3": "ID3 not really audio",
}
_BY_METAVAR = {
    "FORMAT": st.sampled_from(OUTPUT_FORMATS),
    "JMESPATH": st.sampled_from(
        ["data", "data[0].id", "length(data)", "@", "object", "merge(@, `1`)", "sort(@)"]
    ),
    "KEY=VALUE": st.sampled_from(
        ["model=gpt-4o-mini", "input=hi", "n=2", "metadata.k=v", "tags[]=a", "x=@prompt.txt"]
    ),
    "JSON": st.sampled_from(['{"a": 1}', "[1, 2]", '"text"', "null", "@body.json"]),
    "JSON|@FILE|-": st.sampled_from(['{"model": "gpt-4o-mini"}', "@body.json", "{}"]),
    "PATH": st.sampled_from([*FILES, "out.bin"]),
    "FILE": st.sampled_from(list(FILES)),
    "DIR": st.sampled_from([".", "out"]),
    "DURATION": st.sampled_from(["1", "0.01", "90s", "10m", "1h30m"]),
    "SECONDS": st.sampled_from(["0.01", "1", "30"]),
    "NAME:VALUE": st.sampled_from(["x-a: b", "x-trace:1"]),
}


def _good(flag: Flag) -> st.SearchStrategy[str]:
    """A value the option's type accepts (the API may still refuse it)."""
    if flag.choices:
        return st.sampled_from(flag.choices)
    if flag.metavar in _BY_METAVAR:
        return _BY_METAVAR[flag.metavar]
    if flag.kind == "int":
        return st.one_of(st.integers(-3, 100), st.integers()).map(str)
    if flag.kind == "float":
        return st.one_of(st.sampled_from(["0.5", "1", "30", "0", "-1"]), st.floats().map(str))
    return GOOD_VALUES


def _value(flag: Flag, clean: bool) -> st.SearchStrategy[str]:
    if clean:
        return _good(flag)
    options = [JUNK, _good(flag)]
    if {"-F", "-f", "--field", "--raw-field"} & set(flag.names):
        options.append(FIELD_VALUES)
    return st.one_of(*options)


@st.composite
def _flag_tokens(
    draw: st.DrawFn, flags: tuple[Flag, ...], clean: bool = False, flag: Flag | None = None
) -> list[str]:
    flag = flag or draw(st.sampled_from(flags))
    name = draw(st.sampled_from(flag.names))
    how = draw(st.sampled_from(["value", "value", "joined"] + ([] if clean else ["bare"])))
    if not flag.takes_value or how == "bare":
        return [name]
    value = draw(_value(flag, clean))
    if how == "joined" and name.startswith("--"):
        return [f"{name}={value}"]
    return [name, value]


@st.composite
def _clean(draw: st.DrawFn, node: Node) -> list[str]:
    """A command line the parser accepts: arguments, required flags, a few others."""
    tail = [draw(GOOD_VALUES) for _ in range(node.arguments)]
    for flag in node.required:
        tail += draw(_flag_tokens(node.flags, True, flag))
    for _ in range(draw(st.integers(0, 3)) if node.flags else 0):
        tail += draw(_flag_tokens(node.flags, clean=True))
    return list(node.path) + tail


@st.composite
def _noisy(draw: st.DrawFn, node: Node) -> list[str]:
    path = list(node.path)
    if path and draw(st.integers(0, 9)) == 0:
        path = path[: draw(st.integers(0, len(path) - 1))]  # a group, or nothing at all
    if path and draw(st.integers(0, 9)) == 0:
        path[draw(st.integers(0, len(path) - 1))] = draw(JUNK)  # a mistyped word
    tail: list[str] = []
    if draw(st.booleans()):
        for flag in node.required:
            tail += draw(_flag_tokens(node.flags, flag=flag))
    flags = node.flags or root_flags()
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 9))
        if kind <= 5:
            tail += draw(_flag_tokens(flags, clean=draw(st.booleans())))
        elif kind == 6:
            tail.append(draw(st.one_of(GOOD_VALUES, JUNK)))  # one argument too many
        elif kind == 7:
            tail.append(draw(st.sampled_from(all_flag_names())))  # a flag of another command
        elif kind == 8 and node.children:
            tail.append(draw(st.sampled_from(node.children)))
        else:
            tail.append(draw(JUNK))
    args = [draw(st.one_of(GOOD_VALUES, JUNK)) for _ in range(node.arguments)]
    tail = args + tail if draw(st.booleans()) else tail + args
    if draw(st.integers(0, 9)) == 0:
        # Options in odd places: between the group words.
        at = draw(st.integers(0, len(path)))
        path[at:at] = draw(_flag_tokens(root_flags()))
    if draw(st.integers(0, 9)) == 0:
        tail.insert(draw(st.integers(0, len(tail))), "--")
    if tail and draw(st.integers(0, 9)) == 0:
        tail += tail[-2:]  # the same flag again
    return path + tail


@st.composite
def argvs(draw: st.DrawFn, nodes: tuple[Node, ...]) -> list[str]:
    """A command line aimed at one command of ``nodes``, clean or with noise around it."""
    node = draw(st.sampled_from(nodes))
    before: list[str] = []
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        before += draw(_flag_tokens(root_flags(), clean=draw(st.booleans())))
    rest = draw(_clean(node) if draw(st.booleans()) else _noisy(node))
    return before + rest


@cache
def api_commands() -> tuple[Node, ...]:
    """The catalogue's commands (everything under a family, not the hand-written tools)."""
    from openai_cli.app import TOOLS

    return tuple(n for n in tree() if n.path and n.path[0] not in TOOLS)


@cache
def tool_commands() -> tuple[Node, ...]:
    from openai_cli.app import TOOLS

    return tuple(n for n in tree() if not n.path or n.path[0] in TOOLS)


# -- running -------------------------------------------------------------------------


@pytest.fixture
def fake_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Every request, to any host, answered with an empty list; the run's env to use."""
    # Files a command writes (-O PATH, `completion install`) land in the test's directory.
    monkeypatch.chdir(tmp_path)
    env = {
        **api_env(),
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "OAI_POLL_INTERVAL": "0",
        "SHELL": "/bin/bash",
    }
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route().mock(return_value=httpx.Response(200, json=LIST_BODY))
        yield env


def check(argv: list[str], r: Result) -> None:
    where = f"oai {shlex.join(argv)}"
    # --debug asks for the traceback of an error (main.run decides it this way too).
    words = argv[: argv.index("--")] if "--" in argv else argv
    if "--debug" not in words:
        assert "Traceback" not in r.err, (where, r)
    assert "internal error" not in r.err, (where, r)
    assert r.code in EXIT_CODES, (where, r)
    if r.code == 2:
        assert r.err.strip(), (where, r)


@given(argv=st.deferred(lambda: argvs(api_commands())))
@_settings(200)
def test_api_commands_never_crash(fake_api: dict[str, str], argv: list[str]) -> None:
    check(argv, invoke(*argv, env=fake_api))


@given(argv=st.deferred(lambda: argvs(tool_commands())))
@_settings(120)
def test_tools_and_groups_never_crash(fake_api: dict[str, str], argv: list[str]) -> None:
    check(argv, invoke(*argv, env=fake_api))


@given(argv=st.lists(st.one_of(JUNK, st.sampled_from(all_flag_names())), max_size=6))
@_settings(50)
def test_pure_junk_never_crashes(fake_api: dict[str, str], argv: list[str]) -> None:
    check(argv, invoke(*argv, env=fake_api))


# -- every value of every parameter type ----------------------------------------------
#
# Each run is one catalogue operation with values drawn by the type of each of its
# parameters, some -F fields from the key grammar, in one of several time zones. The
# mock server answers like a real one: a body that is not strict JSON in UTF-8 (NaN,
# Infinity, a lone surrogate) gets 400. So exit 1 (an API error or an internal one)
# can only mean a value went through unchecked: it is never expected here.

OPERATIONS = tuple(op for group in catalogue.GROUPS for op in catalogue.load(group))
ZONES = ("UTC", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns")
# A lone surrogate is what a process gets from a command line that is not UTF-8.
TEXT = st.one_of(
    st.text(CHARS, max_size=20),
    st.sampled_from(["", " ", "\udcff", "a\udc80b", "\u00e9", "-", "--x", "x" * 3000]),
)
NUMBERS = st.one_of(
    st.floats().map(str),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "1e400", "-1e-400", "1_0", "0x1", "9" * 5000]),
)
INTEGERS = st.one_of(
    st.integers().map(str),
    st.sampled_from(["9" * 20, "-" + "9" * 20, "9" * 5000, "1.5", "1e3", "", "0"]),
)
TIMES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00"]),
    INTEGERS,
)
JSON_TEXT = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(CHARS, max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=8,
    ).map(lambda v: json.dumps(v, allow_nan=True)),
    st.sampled_from(["[" * 5000, "[" * 900 + "]" * 900, '{"a": NaN}', "{", "@body.json"]),
    TEXT,
)
FILES_OR_NOT = st.sampled_from(["prompt.txt", "audio.mp3", "missing.bin", ".", "-", ""])


def _param_values(p: Param, wild: bool) -> st.SearchStrategy[list[str]]:
    """Command-line tokens giving ``p`` a value drawn by its type: any (``wild``) or tame."""
    if p.type == "boolean":
        return st.sampled_from([[p.flag], ["--no-" + p.flag[2:]]])
    kind = p.items if p.type == "array" else p.type
    one: st.SearchStrategy[str]
    if p.is_file:
        one = FILES_OR_NOT if wild else st.just("prompt.txt")
    elif is_unix_time(p.name, p.type):
        one = TIMES if wild else st.just("2026-01-01")
    elif p.enum:
        tame = st.sampled_from([str(e) for e in p.enum])
        one = st.one_of(tame, TEXT) if wild else tame
    elif not wild:
        one = st.just({"integer": "1", "number": "0.5", "json": '{"a": 1}'}.get(kind or "", "x"))
    else:
        one = {"integer": INTEGERS, "number": NUMBERS, "json": JSON_TEXT}.get(
            kind or "string", st.one_of(TEXT, JSON_TEXT)
        )
    many = 3 if p.type == "array" else 1
    return st.lists(one, min_size=1, max_size=many).map(
        lambda vs: [t for v in vs for t in (p.flag, v)]
    )


# -F keys by the grammar: names, .name, [name], [], [N] (N up to far too many digits),
# nested up to far too deep.
_KEY_PARTS = st.one_of(
    st.sampled_from([".a", "[b]", "[]", "[0]", "[1]", ".-", "[", "]", ".", "[x"]),
    st.integers(0, 10**40).map(lambda n: f"[{n}]"),
    st.just("[9" + "9" * 5000 + "]"),
)
FIELD_KEYS = st.one_of(
    st.tuples(
        st.sampled_from(["a", "input", "metadata", "x"]), st.lists(_KEY_PARTS, max_size=8)
    ).map(lambda t: t[0] + "".join(t[1])),
    st.integers(1, 20000).map(lambda n: "a" + "[b]" * n),
    st.integers(1, 20000).map(lambda n: "a" + ".b" * n),
)
FIELDS = st.lists(
    st.tuples(st.sampled_from(["-F", "-f"]), FIELD_KEYS, st.one_of(JUNK, JSON_TEXT, NUMBERS)),
    max_size=3,
).map(lambda fs: [t for flag, k, v in fs for t in (flag, f"{k}={v}")])


def _kind(p: Param) -> str:
    if p.is_file:
        return "file"
    if is_unix_time(p.name, p.type):
        return "time"
    if p.enum:
        return "enum"
    return f"array of {p.items}" if p.type == "array" else p.type


def _params(op: Operation) -> list[Param]:
    return [*op.query, *op.headers, *op.body]


# Each kind of parameter as often as any other, whatever the catalogue holds most of.
BY_KIND: dict[str, list[tuple[Operation, Param]]] = {}
for _op in OPERATIONS:
    for _p in _params(_op):
        BY_KIND.setdefault(_kind(_p), []).append((_op, _p))


@st.composite
def typed_argvs(draw: st.DrawFn) -> list[str]:
    op, focus = draw(
        st.sampled_from(sorted(BY_KIND)).flatmap(lambda k: st.sampled_from(BY_KIND[k]))
    )
    argv = list(op.command)
    params = _params(op)
    chosen = draw(st.lists(st.sampled_from(params), max_size=3, unique=True))
    # One value of the drawn kind goes wild; the others are tame, so that a refusal of
    # one of them does not hide what the wild one does.
    for p in {*chosen, *(p for p in params if p.required)} - {focus}:
        argv += draw(_param_values(p, wild=False))
    argv += draw(_param_values(focus, wild=True))
    if op.body and draw(st.integers(0, 3)) == 0:
        argv += draw(FIELDS)
    argv += ["file-abc123" for _ in op.path_params]
    return argv


def _strict_json_server(request: httpx.Request) -> httpx.Response:
    if request.headers.get("content-type", "").startswith("application/json"):

        def refuse(constant: str) -> None:
            raise ValueError(constant)

        try:
            json.loads(request.content.decode("utf-8"), parse_constant=refuse)
        except ValueError as exc:
            return httpx.Response(400, json={"error": {"message": f"invalid JSON: {exc}"}})
    return httpx.Response(200, json=LIST_BODY)


@given(argv=typed_argvs(), zone=st.sampled_from(ZONES))
@_settings(200)
def test_no_value_of_any_type_ends_in_exit_1(
    fake_api: dict[str, str], argv: list[str], zone: str
) -> None:
    with local_zone(zone), respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route().mock(side_effect=_strict_json_server)
        r = invoke(*argv, env={**fake_api, "TZ": zone})
    check(argv, r)
    assert r.code != 1, (f"TZ={zone} oai {shlex.join(argv)}", r)


COSTS = ["admin", "organization", "usage", "costs"]
RESPONSE = ["responses", "create", "--model", "m", "--input", "x"]


@pytest.mark.parametrize(
    ("zone", "argv", "says"),
    [
        ("UTC", ["api", "post", "/x", "-F", "a[" + "5" * 5000 + "]=1"], "at most 6 digits"),
        ("UTC", ["api", "post", "/x", "-F", "a" + "[b]" * 12000 + "=1"], "deeper than 32"),
        ("UTC", ["api", "post", "/x", "-F", "a" + ".b" * 12000 + "=1"], "deeper than 32"),
        ("Asia/Tokyo", [*COSTS, "--start-time", "0001-01-01"], "--start-time"),
        ("UTC", [*COSTS, "--start-time", "9" * 5000], "--start-time"),
        ("UTC", ["logs", "-n", "99999999999999999999"], "-n/--limit"),
        ("UTC", ["--timeout", "1e10", "models", "list"], "--timeout"),
        ("UTC", [*RESPONSE, "--top-p", "nan"], "--top-p"),
        ("UTC", ["api", "post", "/responses", "--body", '{"top_p": Infinity}'], "--body"),
        ("UTC", ["files", "create", "prompt.txt", "--purpose", "user_data", "--chunked",
                 "--part-size", "inf"], "--part-size"),
    ],
)  # fmt: skip
def test_values_that_were_internal_errors_are_usage_errors(
    fake_api: dict[str, str], zone: str, argv: list[str], says: str
) -> None:
    # A log with a conversation in it: `logs -n` then reaches the database.
    with respx.mock(assert_all_called=False) as router:
        router.route().respond(json={"id": "resp_1", "status": "completed", "output": []})
        assert invoke("ask", "hello", env=fake_api).code == 0
    with local_zone(zone), respx.mock(assert_all_called=False) as router:
        route = router.route().respond(json=LIST_BODY)
        r = invoke(*argv, env={**fake_api, "TZ": zone})
    assert r.code == 2, r
    assert says in r.err and r.err.count("\n") <= 2, r
    assert not route.called


@contextmanager
def local_zone(zone: str) -> Iterator[None]:
    """The process's local time zone (what a date without a zone is read in) for a while."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


# -- shell completion requests -------------------------------------------------------


@st.composite
def completion_lines(draw: st.DrawFn) -> tuple[str, str, str | None]:
    node = draw(st.sampled_from(tree()))
    words = ["oai", *node.path[: draw(st.integers(0, len(node.path)))]]
    for _ in range(draw(st.integers(0, 3))):
        flag = draw(st.booleans())
        if flag and node.flags:
            words += draw(_flag_tokens(node.flags))
        else:
            words.append(draw(JUNK))
    line = " ".join(words)
    end = draw(st.sampled_from(["", " ", "-", "--", "--o", "=", "'", '"', "\\", " '", draw(JUNK)]))
    line += end
    if draw(st.integers(0, 4)) == 0:
        line = line[: draw(st.integers(0, len(line)))]  # the cursor anywhere
    shell = draw(st.sampled_from(["bash", "zsh", "fish"]))
    word = draw(st.one_of(st.none(), st.sampled_from(["", "=", ":"]), JUNK))
    return shell, line, word


@given(request=completion_lines())
@_settings(100)
def test_completion_requests_never_fail(
    fake_api: dict[str, str], request: tuple[str, str, str | None]
) -> None:
    shell, line, word = request
    env = {**fake_api, "_OAI_COMPLETE": f"complete_{shell}", "_OAI_COMPLETE_LINE": line}
    if word is not None:
        env["_OAI_COMPLETE_WORD"] = word
    r = invoke(env=env)
    assert "Traceback" not in r.err, (request, r)
    assert r.code == 0, (request, r)
