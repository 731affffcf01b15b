"""The documentation: the generated reference matches the app, and the hand-written
pages use commands and options that exist and links that resolve."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from openai_cli.operations.model import Operation
from tests.helpers import ROOT
from tools import gen_docs

DOCS = ROOT / "docs"
HAND_WRITTEN = [
    ROOT / "README.md",
    DOCS / "index.md",
    DOCS / "getting-started.md",
    DOCS / "configuration.md",
    DOCS / "scripting.md",
]


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return gen_docs.generate()


def test_reference_matches_the_app(generated: dict[str, str]) -> None:
    problems = gen_docs.stale(generated)
    assert not problems, "docs/reference is stale; run python -m tools.gen_docs\n" + "\n".join(
        problems
    )


def test_generation_is_deterministic(generated: dict[str, str]) -> None:
    assert gen_docs.generate() == generated


def _without_order_flag(load: Any) -> Any:
    def patched(group: str) -> list[Operation]:
        return [
            replace(op, query=tuple(p for p in op.query if p.name != "order"))
            if op.command == ("files", "list")
            else op
            for op in load(group)
        ]

    return patched


def test_check_fails_when_a_command_changes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], generated: dict[str, str]
) -> None:
    import openai_cli.operations.catalogue as catalogue

    page = f"{gen_docs.OUT / 'files.md'}: out of date"
    assert page not in gen_docs.stale(generated)
    monkeypatch.setattr(catalogue, "load", _without_order_flag(catalogue.load))
    assert gen_docs.main(["--check"]) == 1
    assert page in capsys.readouterr().out.splitlines()


def test_check_fails_when_a_tool_is_added(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], generated: dict[str, str]
) -> None:
    from openai_cli import app

    pages = [f"{gen_docs.OUT / name}: out of date" for name in ("index.md", "tools.md")]
    assert not set(pages) & set(gen_docs.stale(generated))
    monkeypatch.setitem(app.TOOLS, "zz-extra", ("openai_cli.commands.completion", "Extra."))
    assert gen_docs.main(["--check"]) == 1
    assert set(pages) <= set(capsys.readouterr().out.splitlines())


def test_check_names_missing_and_leftover_pages(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("old\n")
    (tmp_path / "gone.md").write_text("a family that no longer exists\n")
    problems = gen_docs.stale({"a.md": "new\n", "b.md": "new\n"}, tmp_path)
    assert problems == [
        f"{tmp_path / 'a.md'}: out of date",
        f"{tmp_path / 'b.md'}: missing",
        f"{tmp_path / 'gone.md'}: no such command any more",
    ]
    assert (
        gen_docs.stale({"a.md": "old\n", "gone.md": "a family that no longer exists\n"}, tmp_path)
        == []
    )


def test_every_command_has_exactly_one_section(generated: dict[str, str]) -> None:
    root = gen_docs.build_root()
    leaves = [
        n.name for top in gen_docs.top_level(root) for n in gen_docs.walk(top) if not n.is_group
    ]
    assert len(leaves) > 288  # every API operation, and the tools
    headings = [
        m.group(1)
        for text in generated.values()
        for m in re.finditer(r"^#{2,3} (oai .+)$", text, re.MULTILINE)
    ]
    tool_groups = {n.name for n in gen_docs.top_level(root) if n.is_group}
    assert sorted(h for h in headings if h not in tool_groups) == sorted(leaves)
    assert len(headings) == len(set(headings))


def test_examples_are_checked_against_the_app() -> None:
    root = gen_docs.build_root()
    gen_docs.check_example(root, "files list", "oai files list --order asc --all -o jsonl | head")
    gen_docs.check_example(root, "auth token", 'curl -H "Bearer $(oai auth token)" https://x')
    with pytest.raises(gen_docs.ExampleError, match="has no option --sort"):
        gen_docs.check_example(root, "files list", "oai files list --sort asc")
    with pytest.raises(gen_docs.ExampleError, match="no command 'oai files lst'"):
        gen_docs.check_example(root, "files list", "oai files lst")
    with pytest.raises(gen_docs.ExampleError, match="runs 'files delete'"):
        gen_docs.check_example(root, "files list", "oai files delete file-abc")
    with pytest.raises(gen_docs.ExampleError, match="does not run oai"):
        gen_docs.check_example(root, "files list", "curl https://api.openai.com/v1/files")


def _shell_lines(text: str) -> list[str]:
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        joined = block.replace("\\\n", " ")
        lines += [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    return lines


def test_hand_written_pages_use_real_commands_and_options() -> None:
    root = gen_docs.build_root()
    checked = 0
    for page in HAND_WRITTEN:
        for line in _shell_lines(page.read_text()):
            for words in gen_docs.oai_invocations(line):
                try:
                    gen_docs.resolve(root, words, line)
                except gen_docs.ExampleError as exc:
                    pytest.fail(f"{page.relative_to(ROOT)}: {exc}")
                checked += 1
    assert checked >= 40


def test_configuration_page_covers_every_setting_and_variable() -> None:
    from openai_cli.config import settings, settings_table, store
    from openai_cli.config.secrets import TIMEOUT_ENV

    rows = settings_table.SETTINGS + settings_table.KEYS + settings_table.ENVIRONMENT
    text = (DOCS / "configuration.md").read_text()
    names = [
        *store.SETTING_KEYS,
        *settings.ENV_NAMES.values(),
        settings.CONFIG_DIR_ENV,
        settings.PROFILE_ENV,
        settings.CA_FILE_ENV,
        settings.CA_DIR_ENV,
        TIMEOUT_ENV,
        # Every variable of every row, the environment-only knobs too.
        *(var for row in rows for var in row.env),
    ]
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, f"docs/configuration.md does not mention: {', '.join(missing)}"


def _anchors(text: str) -> set[str]:
    return {gen_docs._anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def test_links_between_pages_resolve() -> None:
    pages = [*HAND_WRITTEN, *sorted((DOCS / "reference").glob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text()):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_index_lists_every_page() -> None:
    index = (DOCS / "index.md").read_text()
    linked = set(re.findall(r"\]\(([^)#\s]+)", index))
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    missing = sorted(pages - linked)
    assert not missing, f"docs/index.md does not link: {', '.join(missing)}"
