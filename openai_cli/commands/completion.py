"""``oai completion``: shell completion scripts, and answers to the shells' requests.

The scripts are small shims that run ``oai`` itself on every TAB (with
``_OAI_COMPLETE`` set), so commands, flags and enum values always match the
installed version and a new command needs no new script. ``main.run`` hands such a
request to :func:`answer` before anything else happens: only the groups on the
typed path are built, and nothing reads a key or opens a connection.

The request protocol: ``_OAI_COMPLETE=complete_SHELL``, ``_OAI_COMPLETE_LINE`` the
command line up to the cursor and, for bash, ``_OAI_COMPLETE_WORD`` the word bash
will replace (bash splits ``--order=a`` at ``=``, so the answer is cut to fit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from openai_cli import writer
from openai_cli.errors import OaiError, UsageError, cannot_write
from openai_cli.options import add_command, argument

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openai_cli.context import Factory
    from openai_cli.io import IO

COMPLETE_VAR = "_OAI_COMPLETE"
LINE_VAR = "_OAI_COMPLETE_LINE"
WORD_VAR = "_OAI_COMPLETE_WORD"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


# File names under completions/ in the repository.
FILES = {Shell.bash: "oai.bash", Shell.zsh: "_oai", Shell.fish: "oai.fish"}

_HEADER = (
    "{comment} {shell} completion for oai, from `oai completion show {shell}`; do not edit.\n"
    "{comment} The candidates come from oai itself on every TAB, so they follow the\n"
    "{comment} installed version: commands, flags, enum values and profile names.\n"
)

# Read line by line rather than $(...) into an array: no word splitting, no globbing
# of a candidate such as '*' (and no mapfile, which macOS's bash 3.2 lacks).
# `-o default` falls back to file names when oai offers none (an upload's PATH).
_BASH = r"""_oai_completion() {
    local word=${COMP_WORDS[COMP_CWORD]} line
    # After `--order=` bash's current word is the `=` itself, but readline replaces
    # only what follows it.
    [[ -n $word && -z ${word//[$COMP_WORDBREAKS]/} ]] && word=
    COMPREPLY=()
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done < <(
        _OAI_COMPLETE=complete_bash \
        _OAI_COMPLETE_LINE="${COMP_LINE:0:COMP_POINT}" \
        _OAI_COMPLETE_WORD="$word" \
        "$1" </dev/null 2>/dev/null
    )
    return 0
}

complete -o default -F _oai_completion oai
"""

# Works both autoloaded from fpath (the file's body runs as the function) and
# sourced after compinit (it registers itself).
_ZSH = r"""_oai() {
  local -a candidates
  candidates=("${(@f)$(
    _OAI_COMPLETE=complete_zsh \
    _OAI_COMPLETE_LINE="${words[1,CURRENT-1]} ${PREFIX}" \
    oai </dev/null 2>/dev/null
  )}")
  candidates=(${candidates:#})
  if (( ${#candidates} )); then
    _describe -t oai-values 'oai' candidates
  else
    _files
  fi
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _oai "$@"
else
  compdef _oai oai
fi
"""

_FISH = r"""function __oai_complete
    set -lx _OAI_COMPLETE complete_fish
    set -lx _OAI_COMPLETE_LINE (commandline -cp | string collect)
    set -l candidates (oai </dev/null 2>/dev/null)
    if set -q candidates[1]
        printf '%s\n' $candidates
    else
        __fish_complete_path (commandline -ct)
    end
end

complete -c oai -f -a '(__oai_complete)'
"""

_BODIES = {Shell.bash: _BASH, Shell.zsh: _ZSH, Shell.fish: _FISH}


def script(shell: Shell) -> str:
    """The completion script for ``shell``, exactly as committed under completions/."""
    header = _HEADER.format(comment="#", shell=shell.value)
    if shell is Shell.zsh:
        # compinit looks for this tag on the file's first line.
        header = "#compdef oai\n" + header
    return header + "\n" + _BODIES[shell]


# -- answering a request ------------------------------------------------------------------

_HELP_WIDTH = 80


def answer(io: IO) -> int:
    """Print the candidates for one completion request; called by ``main.run``."""
    shell = io.env.get(COMPLETE_VAR, "").removeprefix("complete_")
    if shell not in FILES:
        io.message(f"oai: unknown completion request {io.env.get(COMPLETE_VAR)!r}")
        return 2
    line = io.env.get(LINE_VAR, "")
    try:
        lines = candidates(line, io, Shell(shell))
    except Exception as exc:  # a TAB must never print a traceback into the prompt
        io.message(f"oai: completion failed: {type(exc).__name__}: {exc}")
        return 1
    if lines:
        io.out.write("\n".join(lines) + "\n")
    io.out.flush()
    return 0


def candidates(line: str, io: IO, shell: Shell) -> list[str]:
    """The lines the shell script reads back, for the command line up to the cursor."""
    from openai_cli.typer_compat import split_arg_string

    words = split_arg_string(line)
    incomplete = words.pop() if words and line and not line[-1].isspace() else ""
    items = _complete(words[1:], incomplete, io)
    # The same split Click makes: `--order=a` completes the value `a`.
    prefix = ""
    if incomplete.startswith("-") and "=" in incomplete and "--" not in words:
        prefix = incomplete.partition("=")[0] + "="
    out: list[str] = []
    for value, help_text in items:
        full = prefix + value
        if shell is Shell.bash:
            cut = _bash_word(full, incomplete, io.env.get(WORD_VAR, incomplete))
            if cut is not None:
                out.append(cut)
        elif shell is Shell.zsh:
            entry = full.replace("\\", "\\\\").replace(":", "\\:")
            out.append(f"{entry}:{help_text}" if help_text else entry)
        else:
            out.append(f"{full}\t{help_text}" if help_text else full)
    return out


def _bash_word(full: str, token: str, word: str) -> str | None:
    # bash replaces only its own last word, which COMP_WORDBREAKS (= and :) may have
    # cut from the middle of the token: answer with the part that replaces that word.
    if not token.endswith(word):
        return full
    lead = token[: len(token) - len(word)]
    return full[len(lead) :] if full.startswith(lead) else None


def _complete(args: list[str], incomplete: str, io: IO) -> list[tuple[str, str]]:
    from openai_cli.app import build
    from openai_cli.context import Factory
    from openai_cli.typer_compat import complete

    factory = Factory(io)
    try:
        items = complete(build(), factory, args, incomplete)
    finally:
        factory.close()
    # Click marks path parameters with type "file" or "dir": leaving them out lets
    # the script fall back to the shell's own file name completion.
    return [(value, _one_line(help_text)) for value, kind, help_text in items if kind == "plain"]


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _HELP_WIDTH else text[: _HELP_WIDTH - 3].rstrip() + "..."


def complete_profile(ctx: typer.Context, incomplete: str) -> list[str]:
    """Profile names from the config file (never the keyring), for ``--profile``."""
    from openai_cli.config import config_path
    from openai_cli.config.store import ConfigFile

    env: Mapping[str, str] = getattr(getattr(ctx.obj, "io", None), "env", None) or os.environ
    try:
        names = ConfigFile.load(config_path(env)).profile_names()
    except OaiError:
        return []
    return sorted(n for n in names if n.startswith(incomplete))


# -- the commands ------------------------------------------------------------------------

app = typer.Typer(
    help="Shell completion for bash, zsh and fish.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@dataclass(frozen=True, kw_only=True)
class ShowOptions:
    shell: Shell = argument(metavar="SHELL", help="bash, zsh or fish.", show_default=False)


def show(factory: Factory, opts: ShowOptions) -> None:
    """Print the completion script for SHELL.

    For a one-off try: `source <(oai completion show bash)`; zsh needs compinit
    loaded first.
    """
    out = factory.io.out
    out.write(script(opts.shell))
    out.flush()


@dataclass(frozen=True, kw_only=True)
class InstallOptions:
    shell: Shell | None = argument(
        default=None,
        metavar="SHELL",
        help="bash, zsh or fish (default: the one in $SHELL).",
        show_default=False,
    )


def install(factory: Factory, opts: InstallOptions) -> None:
    """Write the completion script where SHELL looks for it (for this user only).

    bash: ~/.local/share/bash-completion/completions/oai (loaded by bash-completion);
    zsh: ~/.zfunc/_oai (that directory must be in fpath before compinit);
    fish: ~/.config/fish/completions/oai.fish. Running it again updates the file.
    """
    io = factory.io
    env = io.env
    shell = opts.shell
    if shell is None:
        shell = _shell_from_env(env)
    path = install_path(shell, env)
    text = script(shell)
    try:
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer.write_file(path, text.encode("utf-8"))
    except OSError as exc:
        raise cannot_write(path, exc) from None
    if current == text:
        io.message(f"The {shell.value} completion in {path} is up to date")
    else:
        io.message(f"Installed the {shell.value} completion in {path}")
    for note in _notes(shell, path, env):
        io.message(note)


# Nothing is sent: none of the shared options apply.
add_command(app, "show", ShowOptions, show, common=())
add_command(app, "install", InstallOptions, install, common=())


def _shell_from_env(env: Mapping[str, str]) -> Shell:
    name = Path(env.get("SHELL", "")).name
    try:
        return Shell(name)
    except ValueError:
        raise UsageError(
            f"cannot tell which shell to install for from SHELL={env.get('SHELL', '')!r}",
            hint="name it: oai completion install bash|zsh|fish",
        ) from None


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME", "").strip()
    return Path(home) if home else Path.home()


def install_path(shell: Shell, env: Mapping[str, str]) -> Path:
    """Where each shell looks for a user's completion files by default."""
    home = _home(env)
    if shell is Shell.bash:
        data = env.get("XDG_DATA_HOME", "").strip() or str(home / ".local" / "share")
        return Path(data) / "bash-completion" / "completions" / "oai"
    if shell is Shell.zsh:
        return home / ".zfunc" / "_oai"
    config = env.get("XDG_CONFIG_HOME", "").strip() or str(home / ".config")
    return Path(config) / "fish" / "completions" / "oai.fish"


def _notes(shell: Shell, path: Path, env: Mapping[str, str]) -> list[str]:
    if shell is Shell.bash:
        return [
            "bash-completion loads it in new shells; without bash-completion, "
            f"add `source {path}` to ~/.bashrc"
        ]
    if shell is Shell.zsh:
        zshrc = Path(env.get("ZDOTDIR", "").strip() or _home(env)) / ".zshrc"
        try:
            has_fpath = ".zfunc" in zshrc.read_text(encoding="utf-8", errors="replace")
        except OSError:
            has_fpath = False
        notes = []
        if not has_fpath:
            notes.append(
                f"add `fpath=(~/.zfunc $fpath)` to {zshrc}, "
                "before `autoload -Uz compinit && compinit`"
            )
        notes.append("then start a new shell (if it does not show, `rm -f ~/.zcompdump*`)")
        return notes
    return ["fish loads it in new shells"]
