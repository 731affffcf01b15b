"""``oai completion``: shell completion scripts, and answers to the shells' requests.

The scripts are small shims that run ``oai`` itself on every TAB (with
``_OAI_COMPLETE`` set), so commands, flags and enum values always match the
installed version and a new command needs no new script. ``main.run`` hands such a
request to ``tab.answer`` before anything else happens: it answers from the index of
the command tree without Typer, and what the index cannot tell comes to
:func:`complete`, which builds only the groups on the typed path. Nothing reads a
key or opens a connection.

The request protocol: ``_OAI_COMPLETE=complete_SHELL``, ``_OAI_COMPLETE_LINE`` the
command line up to the cursor and, for bash, ``_OAI_COMPLETE_WORD`` the word bash
will replace (bash splits ``--order=a`` at ``=``, so the answer is cut to fit).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from openai_cli import writer
from openai_cli.errors import ConfigError, UsageError, cannot_write
from openai_cli.options import add_command, argument

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openai_cli.context import Factory
    from openai_cli.io import IO


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


# File names under completions/ in the repository.
FILES = {
    Shell.bash: "oai.bash",
    Shell.zsh: "_oai",
    Shell.fish: "oai.fish",
    Shell.powershell: "oai.ps1",
}

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

# The command's text up to the cursor, padded with the spaces the AST leaves out
# (`oai files ` ends at "files"). Lines come back as "value<TAB>description"; an
# empty answer lets PowerShell fall back to file names.
_POWERSHELL = r"""Register-ArgumentCompleter -Native -CommandName oai -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $line = $commandAst.ToString()
    $upTo = $cursorPosition - $commandAst.Extent.StartOffset
    if ($line.Length -gt $upTo) { $line = $line.Substring(0, $upTo) }
    $line = $line.PadRight($upTo)
    $env:_OAI_COMPLETE = 'complete_powershell'
    $env:_OAI_COMPLETE_LINE = $line
    try {
        $answer = @(& oai 2>$null)
    } finally {
        Remove-Item Env:_OAI_COMPLETE, Env:_OAI_COMPLETE_LINE -ErrorAction SilentlyContinue
    }
    foreach ($entry in $answer) {
        $value, $description = $entry -split "`t", 2
        if (-not $description) { $description = $value }
        $text = $value
        if ($value -match '[\s''"`$;&|(){}]') { $text = "'" + ($value -replace "'", "''") + "'" }
        [System.Management.Automation.CompletionResult]::new(
            $text, $value, 'ParameterValue', $description)
    }
}
"""

_BODIES = {Shell.bash: _BASH, Shell.zsh: _ZSH, Shell.fish: _FISH, Shell.powershell: _POWERSHELL}


def script(shell: Shell) -> str:
    """The completion script for ``shell``, exactly as committed under completions/."""
    header = _HEADER.format(comment="#", shell=shell.value)
    if shell is Shell.zsh:
        # compinit looks for this tag on the file's first line.
        header = "#compdef oai\n" + header
    return header + "\n" + _BODIES[shell]


# -- answering a request ------------------------------------------------------------------
# tab.py answers from the index of the command tree; what it cannot tell is asked of
# Click here, with only the groups on the typed path built.


def complete(args: list[str], incomplete: str, io: IO, root: Any = None) -> list[tuple[str, str]]:
    """Click's candidates for the words before the cursor and the word being typed.

    ``root``: the root group, when one is built already.
    """
    from openai_cli.app import build
    from openai_cli.context import Factory
    from openai_cli.typer_compat import complete as click_complete

    factory = Factory(io)
    try:
        items = click_complete(root or build(), factory, args, incomplete)
    finally:
        factory.close()
    # Click marks path parameters with type "file" or "dir": leaving them out lets
    # the script fall back to the shell's own file name completion.
    return [(value, help_text) for value, kind, help_text in items if kind == "plain"]


def spec_models(command: tuple[str, ...]) -> tuple[str, ...]:
    """The model names the spec lists for ``command``'s ``model`` field."""
    from openai_cli.operations.catalogue import load

    for op in load(command[0]):
        if op.command == command:
            for p in op.params:
                if p.name == "model":
                    return tuple(str(e) for e in p.enum or ())
    return ()


# -- the commands ------------------------------------------------------------------------

app = typer.Typer(
    help="Shell completion for bash, zsh, fish and PowerShell.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@dataclass(frozen=True, kw_only=True)
class ShowOptions:
    shell: Shell = argument(
        metavar="SHELL", help="bash, zsh, fish or powershell.", show_default=False
    )


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
        help="bash, zsh, fish or powershell (default: the one in $SHELL).",
        show_default=False,
    )


def install(factory: Factory, opts: InstallOptions) -> None:
    """Write the completion script where SHELL looks for it (for this user only).

    bash: ~/.local/share/bash-completion/completions/oai (loaded by bash-completion);
    zsh: ~/.zfunc/_oai (that directory must be in fpath before compinit);
    fish: ~/.config/fish/completions/oai.fish; powershell: oai.ps1 beside $PROFILE,
    with a line in $PROFILE that loads it. Running it again updates the file.
    """
    io = factory.io
    env = io.env
    shell = opts.shell
    if shell is None:
        shell = _shell_from_env(env)
    path = install_path(shell, env)
    text = script(shell)
    current = _read(path)
    if current != text:
        _write(path, text)
    if shell is Shell.powershell:
        _source_from_profile(path, env)
    if current == text:
        io.message(f"The {shell.value} completion in {path} is up to date")
    else:
        io.message(f"Installed the {shell.value} completion in {path}")
    for note in _notes(shell, path, env):
        io.message(note)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once: a shell starting meanwhile reads the old
    file or the new one, never half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer.write_file(path, text.encode("utf-8"))
    except OSError as exc:
        raise cannot_write(path, exc) from None


def _source_from_profile(script_path: Path, env: Mapping[str, str]) -> None:
    """PowerShell has no folder of completions: its profile loads the script."""
    profile = powershell_profile(env)
    line = f". '{str(script_path).replace(chr(39), chr(39) * 2)}'"
    current = _read(profile) or ""
    if line not in current.splitlines():
        sep = "" if not current or current.endswith("\n") else "\n"
        _write(profile, f"{current}{sep}{line}\n")


# Nothing is sent: none of the shared options apply.
add_command(app, "show", ShowOptions, show, shared=())
add_command(app, "install", InstallOptions, install, shared=())


def _shell_from_env(env: Mapping[str, str]) -> Shell:
    name = Path(env.get("SHELL", "")).name
    name = "powershell" if name in ("pwsh", "pwsh-preview") else name
    try:
        return Shell(name)
    except ValueError:
        raise UsageError(
            f"cannot tell which shell to install for from SHELL={env.get('SHELL', '')!r}",
            hint="name it: oai completion install bash|zsh|fish|powershell",
        ) from None


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME", "").strip()
    if os.path.isabs(home):
        return Path(home)
    if home:
        raise UsageError(
            f"HOME={home!r} is not an absolute path, so there is no telling where to install",
            hint="set HOME to your home folder",
        )
    if sys.platform == "win32":
        return Path.home()
    # An empty HOME reads as "/" to expanduser: the password database knows better.
    import pwd

    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def _xdg(env: Mapping[str, str], name: str, default: Path) -> Path:
    # The XDG rule: a relative value is to be ignored, not read from where oai runs.
    value = env.get(name, "").strip()
    return Path(value) if os.path.isabs(value) else default


def install_path(shell: Shell, env: Mapping[str, str]) -> Path:
    """Where each shell looks for a user's completion files by default."""
    home = _home(env)
    if shell is Shell.bash:
        data = _xdg(env, "XDG_DATA_HOME", home / ".local" / "share")
        return data / "bash-completion" / "completions" / "oai"
    if shell is Shell.zsh:
        return home / ".zfunc" / "_oai"
    if shell is Shell.powershell:
        return powershell_profile(env).with_name("oai.ps1")
    return _xdg(env, "XDG_CONFIG_HOME", home / ".config") / "fish" / "completions" / "oai.fish"


def powershell_profile(env: Mapping[str, str]) -> Path:
    """PowerShell's $PROFILE for the current user and host (the terminal)."""
    home = _home(env)
    if sys.platform == "win32":
        folder = home / "Documents" / "PowerShell"
    else:
        folder = _xdg(env, "XDG_CONFIG_HOME", home / ".config") / "powershell"
    return folder / "Microsoft.PowerShell_profile.ps1"


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
    if shell is Shell.powershell:
        return [f"{powershell_profile(env)} loads it in new PowerShell sessions"]
    return ["fish loads it in new shells"]
