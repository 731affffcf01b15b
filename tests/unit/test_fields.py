"""``-F`` / ``-f`` field flags: key syntax, value typing, files, conflicts, merge."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_cli.errors import ExitCode, UsageError
from openai_cli.input.fields import FieldArg, FieldKind, coerce_typed, merge, parse_fields

FILES = {
    "prompt.txt": "hello\nworld\n",
    "empty.txt": "",
    "data.json": '{"a": 1}',
    "data.txt": '{"a": 1}',
    "data.yaml": "a: 1\n",
    "bad.json": '{"a": ',
}


def fake_read_file(path: str) -> str:
    if path in FILES:
        return FILES[path]
    if path == "dir":
        raise IsADirectoryError(21, "Is a directory", path)
    if path == "secret":
        raise PermissionError(13, "Permission denied", path)
    if path == "binary.bin":
        raise UnicodeDecodeError("utf-8", b"ab\xff", 2, 3, "invalid start byte")
    if path == "io-error":
        raise OSError(5, "Input/output error", path)
    raise FileNotFoundError(2, "No such file or directory", path)


def F(raw: str) -> FieldArg:
    return FieldArg(raw=raw, typed=True, flag="-F")


def f(raw: str) -> FieldArg:
    return FieldArg(raw=raw, typed=False, flag="-f")


def parse(*args: FieldArg, stdin: str = "from stdin") -> dict[str, Any]:
    return parse_fields(args, read_file=fake_read_file, read_stdin=lambda: stdin)


def error(*args: FieldArg) -> str:
    with pytest.raises(UsageError) as info:
        parse(*args)
    message = info.value.message
    assert "\n" not in message
    return message


# --- keys -------------------------------------------------------------------------


def test_flat_key() -> None:
    assert parse(F("a=1")) == {"a": 1}


def test_no_fields() -> None:
    assert parse() == {}


@pytest.mark.parametrize("key", ["a.b.c", "a[b][c]", "a.b[c]", "a[b].c"])
def test_nested_key_spellings_are_equivalent(key: str) -> None:
    assert parse(F(f"{key}=1")) == {"a": {"b": {"c": 1}}}


def test_siblings_share_their_parent() -> None:
    assert parse(F("a.b=1"), F("a[c]=2"), f("a.d.e=x")) == {"a": {"b": 1, "c": 2, "d": {"e": "x"}}}


def test_allowed_key_characters() -> None:
    assert parse(f("Model_2-x:y/z.k9=v")) == {"Model_2-x:y/z": {"k9": "v"}}
    assert parse(f("m\u00e9ta.cl\u00e9=v")) == {"m\u00e9ta": {"cl\u00e9": "v"}}


def test_dotted_numeric_segments_are_object_keys() -> None:
    assert parse(F("a.0=1"), F("a.1=2")) == {"a": {"0": 1, "1": 2}}


def test_bracketed_numbers_are_list_positions() -> None:
    assert parse(F("m[0].role=user"), F("m[0].content=Hi"), F("m[1].role=assistant")) == {
        "m": [{"role": "user", "content": "Hi"}, {"role": "assistant"}]
    }
    assert parse(F("a[0]=1"), F("a[1]=2"), F("b[0][0]=x")) == {"a": [1, 2], "b": [["x"]]}


def test_a_position_may_not_skip_ahead() -> None:
    with pytest.raises(UsageError) as info:
        parse(F("logit_bias[50256]=-100"))
    assert info.value.message == (
        "-F 'logit_bias[50256]=-100': 'logit_bias' has 0 elements, "
        "so [50256] skips ahead (positions count from 0, in order)"
    )
    assert info.value.hint == "for an object key made of digits write logit_bias.50256"
    assert "'m' has 1 element, so [2]" in error(F("m[0]=a"), F("m[2]=b"))


def test_a_position_is_set_once() -> None:
    assert (
        error(F("m[0]=a"), F("m[0]=b"))
        == "-F 'm[0]=a' conflicts with -F 'm[0]=b': 'm[0]' is already set"
    )
    assert (
        error(F("m.a=1"), F("m[0]=b")) == "-F 'm.a=1' conflicts with -F 'm[0]=b': 'm' is not a list"
    )
    assert "'m[0]' is not an object" in error(F("m[0]=a"), F("m[0].b=c"))


def test_append_objects_key_by_key() -> None:
    # gh api's rule: a[].k fills the last element until k comes again.
    assert parse(
        f("m[].role=user"), f("m[].content=Hi"), f("m[].role=assistant"), f("m[].content=Yo")
    ) == {"m": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    assert parse(F("t[].function.name=f"), F("t[].type=function")) == {
        "t": [{"function": {"name": "f"}, "type": "function"}]
    }


def test_append() -> None:
    assert parse(F("tags[]=x"), F("tags[]=y"), F("tags[]=3")) == {"tags": ["x", "y", 3]}


def test_append_nested() -> None:
    assert parse(f("a.b[]=1"), f("a[b][]=2")) == {"a": {"b": ["1", "2"]}}


def test_append_objects_and_lists_as_elements() -> None:
    assert parse(F('m[]={"role": "user"}'), F("m[]=[1]")) == {"m": [{"role": "user"}, [1]]}


def test_append_to_a_json_list() -> None:
    assert parse(F('tags=["a"]'), F("tags[]=b")) == {"tags": ["a", "b"]}


def test_nest_into_a_json_object() -> None:
    assert parse(F('meta={"a": 1}'), F("meta.b=2")) == {"meta": {"a": 1, "b": 2}}


def test_only_first_equals_splits() -> None:
    assert parse(f("q=a=b=c")) == {"q": "a=b=c"}
    assert parse(F("q==")) == {"q": "="}


def test_empty_value() -> None:
    assert parse(F("a="), f("b=")) == {"a": "", "b": ""}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a.b", "-F 'a.b': expected key=value"),
        ("", "-F '': expected key=value"),
        ("=1", "-F '=1': empty key"),
        ("x[=1", "-F 'x[=1': unbalanced '[' at position 2"),
        ("a[b=1", "-F 'a[b=1': unbalanced '[' at position 2"),
        ("a]=1", "-F 'a]=1': unbalanced ']' at position 2"),
        ("a[b]]=1", "-F 'a[b]]=1': unbalanced ']' at position 5"),
        ("a[b[c]]=1", "-F 'a[b[c]]=1': unbalanced '[' at position 2"),
        ("a..b=1", "-F 'a..b=1': empty key segment at position 3"),
        ("a.=1", "-F 'a.=1': empty key segment at position 3"),
        ("a.[b]=1", "-F 'a.[b]=1': empty key segment at position 3"),
        (".a=1", "-F '.a=1': key must start with a name, not '.'"),
        ("[a]=1", "-F '[a]=1': key must start with a name, not '['"),
        ("a[]x=1", "-F 'a[]x=1': expected '.' or '[' after ']' at position 4"),
        ("a[][]=1", "-F 'a[][]=1': '[]' can be followed only by a key, as in a[].b (position 4)"),
        ("a[][0]=1", "-F 'a[][0]=1': '[]' can be followed only by a key, as in a[].b (position 4)"),
        ("a[b]c=1", "-F 'a[b]c=1': expected '.' or '[' after ']' at position 5"),
    ],
)
def test_bad_keys(raw: str, message: str) -> None:
    assert error(F(raw)) == message


@pytest.mark.parametrize(("raw", "char", "pos"), [("a b=1", " ", 2), ("a.b$=1", "$", 4)])
def test_invalid_key_character(raw: str, char: str, pos: int) -> None:
    assert error(F(raw)).startswith(
        f"-F '{raw}': invalid character {char!r} in key at position {pos}"
    )


def test_invalid_character_inside_brackets() -> None:
    assert "invalid character '.' in key at position 4" in error(F("a[b.c]=1"))


def test_raw_flag_is_named_in_errors() -> None:
    assert error(f("nokey")) == "-f 'nokey': expected key=value"


def test_error_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        parse(F("bad"))
    assert info.value.exit_code == ExitCode.USAGE


# --- typed values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("-0", 0),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("1e+2", 100.0),
        ("12345678901234567890", 12345678901234567890),
    ],
)
def test_typed_scalars(text: str, value: object) -> None:
    got = coerce_typed(text)
    assert got == value
    assert type(got) is type(value)
    assert parse(F(f"k={text}")) == {"k": value}


@pytest.mark.parametrize(
    "text",
    [
        "007",
        "-01",
        "00.5",
        "1.",
        ".5",
        "+1",
        "1_000",
        " 1",
        "1 ",
        "0x10",
        "inf",
        "-inf",
        "nan",
        "NaN",
        "Infinity",
        "1e999",
        "True",
        "FALSE",
        "Null",
        "None",
        "hello",
        "",
        "9" * 5000,
        '"quoted"',
    ],
)
def test_other_text_stays_a_string(text: str) -> None:
    assert coerce_typed(text) == text
    assert parse(F(f"k={text}")) == {"k": text}


def test_json_values() -> None:
    assert parse(F('o={"a": [1, {"b": null}]}'), F("l=[1, 2.5, true]"), F("e={}"), F("z=[]")) == {
        "o": {"a": [1, {"b": None}]},
        "l": [1, 2.5, True],
        "e": {},
        "z": [],
    }


def test_multi_line_json() -> None:
    assert parse(F('o={\n  "a": 1\n}')) == {"o": {"a": 1}}


def test_invalid_json_reports_line_and_column() -> None:
    assert error(F("meta={bad")) == (
        "-F 'meta={bad': invalid JSON at line 1 column 2: "
        "Expecting property name enclosed in double quotes"
    )
    assert "invalid JSON at line 2 column 8:" in error(F('o={\n  "a": }'))


def test_invalid_json_hints_at_raw_flag() -> None:
    with pytest.raises(UsageError) as info:
        parse(F("title=[draft] notes"))
    assert info.value.message.startswith("-F 'title=[draft] notes': invalid JSON at line 1")
    assert info.value.hint is not None
    assert "-f" in info.value.hint
    assert parse(f("title=[draft] notes")) == {"title": "[draft] notes"}


@pytest.mark.parametrize("text", ["[NaN]", '{"a": Infinity}', "[-Infinity]"])
def test_json_non_finite_constants_are_rejected(text: str) -> None:
    assert "invalid JSON" in error(F(f"k={text}"))


def test_json_too_deep_is_a_usage_error() -> None:
    assert "invalid JSON" in error(F("k=" + "[" * 100_000 + "]" * 100_000))


def test_json_with_huge_integer_is_a_usage_error() -> None:
    assert "invalid JSON" in error(F("k=[" + "9" * 5000 + "]"))


def test_raw_values_are_never_typed() -> None:
    raws = ["true", "null", "42", "1.5", "@prompt.txt", "@-", '{"a": 1}', "[1", "{bad"]
    got = parse(*(f(f"k{i}={v}") for i, v in enumerate(raws)))
    assert got == {f"k{i}": v for i, v in enumerate(raws)}


# --- files and stdin ------------------------------------------------------------


def test_at_file_reads_contents_as_string() -> None:
    assert parse(F("p=@prompt.txt"), F("e=@empty.txt")) == {"p": "hello\nworld\n", "e": ""}


def test_at_file_contents_are_not_typed() -> None:
    assert parse(F("d=@data.txt")) == {"d": '{"a": 1}'}


def parse_kinds(*args: FieldArg, kinds: dict[str, FieldKind], stdin: str = "") -> dict[str, Any]:
    return parse_fields(args, read_file=fake_read_file, read_stdin=lambda: stdin, kinds=kinds)


def test_a_json_file_is_json_unless_the_field_holds_text() -> None:
    # With no schema (or a field it does not name), the file's name decides.
    assert parse(F("d=@data.json"), F("m.x=@data.json")) == {"d": {"a": 1}, "m": {"x": {"a": 1}}}
    kinds: dict[str, FieldKind] = {"d": "text", "o": "auto", "s": "text"}
    assert parse_kinds(F("d=@data.json"), F("o=@data.json"), F("s=@data.txt"), kinds=kinds) == {
        "d": '{"a": 1}',
        "o": {"a": 1},
        "s": '{"a": 1}',
    }


def test_a_json_field_reads_its_file_as_json_whatever_the_name() -> None:
    kinds: dict[str, FieldKind] = {"a": "json", "b": "json", "c": "json", "i": "json"}
    got = parse_kinds(
        F("a=@data.txt"), F("b=@data.yaml"), F("c=@data.json"), F("i=@-"), kinds=kinds, stdin="[1]"
    )
    assert got == {"a": {"a": 1}, "b": {"a": 1}, "c": {"a": 1}, "i": [1]}


def test_a_json_file_that_is_not_json_names_the_flag() -> None:
    with pytest.raises(UsageError) as info:
        parse_kinds(F("m=@bad.json"), kinds={"m": "json"})
    assert info.value.message.startswith("-F 'm=@bad.json': invalid JSON at line 1 column 7")
    with pytest.raises(UsageError):
        parse(F("m=@bad.json"))


def test_at_stdin() -> None:
    assert parse(F("input=@-"), stdin="piped\n") == {"input": "piped\n"}


def test_at_stdin_only_once() -> None:
    assert error(F("a=@-"), F("b=@-")) == (
        "-F 'b=@-': standard input was already read by -F 'a=@-'"
    )


def test_stdin_is_not_read_unless_asked() -> None:
    def boom() -> str:
        raise AssertionError("stdin read")

    assert parse_fields([F("a=1")], read_file=fake_read_file, read_stdin=boom) == {"a": 1}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.txt", "-F 'k=@missing.txt': file not found: missing.txt"),
        ("dir", "-F 'k=@dir': dir is a directory, not a file"),
        ("secret", "-F 'k=@secret': permission denied reading secret"),
        (
            "binary.bin",
            "-F 'k=@binary.bin': binary.bin is not UTF-8 text (invalid byte at offset 2)",
        ),
        ("io-error", "-F 'k=@io-error': cannot read io-error: Input/output error"),
    ],
)
def test_file_errors(name: str, message: str) -> None:
    assert error(F(f"k=@{name}")) == message


def test_at_without_a_name() -> None:
    assert error(F("k=@")) == "-F 'k=@': missing file name after '@'"


def test_real_files(tmp_path: Any) -> None:
    good = tmp_path / "good.txt"
    good.write_text("caf\u00e9", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe")

    def read(path: str) -> str:
        with open(path, encoding="utf-8") as fh:
            return fh.read()

    def run(raw: str) -> dict[str, Any]:
        return parse_fields([F(raw)], read_file=read, read_stdin=lambda: "")

    assert run(f"k=@{good}") == {"k": "caf\u00e9"}
    for target, words in [
        (bad, "is not UTF-8 text"),
        (tmp_path, "is a directory"),
        (tmp_path / "nope", "file not found"),
    ]:
        with pytest.raises(UsageError, match=words):
            run(f"k=@{target}")


# --- conflicts ------------------------------------------------------------------


def test_scalar_then_nested_conflicts() -> None:
    assert error(F("a=1"), F("a.b=2")) == "-F 'a=1' conflicts with -F 'a.b=2': 'a' is not an object"


def test_nested_then_scalar_conflicts() -> None:
    assert error(F("a.b=2"), F("a=1")) == "-F 'a.b=2' conflicts with -F 'a=1': 'a' is already set"


def test_same_key_twice_conflicts() -> None:
    assert error(F("a=1"), f("a=2")) == "-F 'a=1' conflicts with -f 'a=2': 'a' is already set"


def test_deep_conflict_names_the_path() -> None:
    message = error(F("x.a.b=1"), F("x.c=0"), F("x.a.b.c=2"))
    assert message == "-F 'x.a.b=1' conflicts with -F 'x.a.b.c=2': 'x.a.b' is not an object"


def test_conflict_names_the_argument_that_set_the_value() -> None:
    message = error(F("x.y=1"), F("x.z=2"), F("x.z.w=3"))
    assert message.startswith("-F 'x.z=2' conflicts with -F 'x.z.w=3'")


def test_conflict_inside_a_json_value() -> None:
    message = error(F('m={"a": {"b": 1}}'), F("m.a.b=2"))
    assert (
        message == "-F 'm={\"a\": {\"b\": 1}}' conflicts with -F 'm.a.b=2': 'm.a.b' is already set"
    )


def test_null_is_not_an_object() -> None:
    assert "'a' is not an object" in error(F("a=null"), F("a.b=1"))


def test_append_to_scalar_conflicts() -> None:
    assert error(F("a=1"), F("a[]=2")) == "-F 'a=1' conflicts with -F 'a[]=2': 'a' is not a list"


def test_append_to_object_conflicts() -> None:
    assert "'a' is not a list" in error(F("a.b=1"), F("a[]=2"))


def test_list_is_not_an_object() -> None:
    assert error(F("a[]=1"), F("a.b=2")) == (
        "-F 'a[]=1' conflicts with -F 'a.b=2': 'a' is not an object"
    )


def test_set_after_append_conflicts() -> None:
    assert "'a' is already set" in error(F("a[]=1"), F("a=2"))


# --- how arguments are shown ----------------------------------------------------


def test_long_arguments_are_shortened_in_messages() -> None:
    message = error(F("k={" + "x" * 500))
    assert message.startswith("-F 'k={" + "x" * 74 + "...': invalid JSON")
    assert len(message) < 200


def test_control_characters_are_escaped_in_messages() -> None:
    message = error(F("a\nb"))
    assert message == "-F 'a\\nb': expected key=value"


def test_quotes_are_escaped_in_messages() -> None:
    assert error(F("it's")) == '-F "it\'s": expected key=value'


# --- merge ----------------------------------------------------------------------


def test_merge_is_deep_and_extra_wins() -> None:
    base = {"model": "m", "opts": {"a": 1, "b": {"c": 2}}, "tags": ["x"]}
    extra = {"opts": {"b": {"d": 3}, "a": 9}, "tags": ["y"], "new": True}
    assert merge(base, extra) == {
        "model": "m",
        "opts": {"a": 9, "b": {"c": 2, "d": 3}},
        "tags": ["y"],
        "new": True,
    }


def test_merge_replaces_across_types() -> None:
    assert merge({"a": {"b": 1}}, {"a": 2}) == {"a": 2}
    assert merge({"a": 2}, {"a": {"b": 1}}) == {"a": {"b": 1}}
    assert merge({"a": [1, 2]}, {"a": []}) == {"a": []}
    assert merge({"a": 1}, {"a": None}) == {"a": None}


def test_merge_leaves_inputs_alone() -> None:
    base = {"a": {"b": 1}}
    extra = {"a": {"c": 2}}
    merge(base, extra)
    assert base == {"a": {"b": 1}}
    assert extra == {"a": {"c": 2}}


def test_merge_fields_into_a_body() -> None:
    body = {"model": "gpt", "metadata": {"team": "a"}}
    fields = parse(F("metadata.run=7"), F("temperature=0.2"))
    assert merge(body, fields) == {
        "model": "gpt",
        "metadata": {"team": "a", "run": 7},
        "temperature": 0.2,
    }


# --- properties -----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    raws=st.lists(
        st.tuples(
            st.text(max_size=30)
            | st.lists(
                st.sampled_from(["a", "b", ".", "[", "]", "[]", "=", "@", "@-", "{", "1", "-"]),
                max_size=12,
            ).map("".join),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_any_input_gives_a_dict_or_usage_error(raws: list[tuple[str, bool]]) -> None:
    args = [FieldArg(raw, typed, "-F" if typed else "-f") for raw, typed in raws]
    try:
        result = parse(*args)
    except UsageError as exc:
        assert exc.message
        assert "\n" not in exc.message
        return
    assert isinstance(result, dict)
    json.dumps(result, allow_nan=False)  # what gets sent must be plain JSON


NAME_CHARS = st.sampled_from("abcXYZ019_-:/\u00e9")
names = st.text(NAME_CHARS, min_size=1, max_size=6)
plain_strings = st.text(max_size=10).filter(
    lambda s: not s.startswith(("@", "{", "[")) and coerce_typed(s) == s
)
typed_leaves = (
    st.booleans()
    | st.none()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | plain_strings
    | st.lists(st.integers(), max_size=3)
)
Tree = dict[str, Any]
trees: st.SearchStrategy[Tree] = st.recursive(
    st.dictionaries(names, typed_leaves, min_size=1, max_size=3),
    lambda children: st.dictionaries(names, children | typed_leaves, min_size=1, max_size=3),
    max_leaves=12,
)


def spell(path: list[str], choices: list[bool]) -> str:
    out = path[0]
    for name, dotted in zip(path[1:], choices, strict=False):
        # A bracketed number is a list position, so digits are spelled as a dotted key.
        out += f".{name}" if dotted or name.isdigit() else f"[{name}]"
    return out


def flatten(tree: Tree, prefix: list[str]) -> list[tuple[list[str], Any]]:
    items: list[tuple[list[str], Any]] = []
    for key, value in tree.items():
        if isinstance(value, dict):
            items.extend(flatten(value, [*prefix, key]))
        else:
            items.append(([*prefix, key], value))
    return items


def typed_text(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


@settings(max_examples=200, deadline=None)
@given(tree=trees, data=st.data())
def test_round_trip_typed(tree: Tree, data: st.DataObject) -> None:
    args: list[FieldArg] = []
    for path, value in flatten(tree, []):
        spelled = spell(path, data.draw(st.lists(st.booleans(), min_size=len(path))))
        args.append(F(f"{spelled}={typed_text(value)}"))
    assert parse(*args) == tree


raw_trees: st.SearchStrategy[Tree] = st.recursive(
    st.dictionaries(names, st.text(max_size=8) | st.lists(st.text(max_size=4), min_size=1)),
    lambda children: st.dictionaries(names, children | st.text(max_size=8), min_size=1),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(tree=raw_trees, data=st.data())
def test_round_trip_raw_with_appends(tree: Tree, data: st.DataObject) -> None:
    args: list[FieldArg] = []
    for path, value in flatten(tree, []):
        spelled = spell(path, data.draw(st.lists(st.booleans(), min_size=len(path))))
        if isinstance(value, list):
            args.extend(f(f"{spelled}[]={item}") for item in value)
        else:
            args.append(f(f"{spelled}={value}"))
    # Empty objects cannot be spelled with keys alone, so they vanish.
    assert parse(*args) == prune(tree)


def prune(tree: Tree) -> Tree:
    out: Tree = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            value = prune(value)
            if not value:
                continue
        out[key] = value
    return out
