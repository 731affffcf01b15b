"""Shell completion: the committed scripts, the request protocol, and real shells."""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openai_cli.commands.completion import FILES, Shell, script
from tests.helpers import ROOT, invoke, subprocess_env

COMPLETIONS = ROOT / "completions"
JOB_VERBS = {
    "cancel",
    "checkpoints",
    "create",
    "list",
    "list-events",
    "pause",
    "resume",
    "retrieve",
}


def complete(shell: str, line: str, word: str | None = None, **env: str) -> list[str]:
    """Ask for candidates the way the committed scripts do."""
    env = {"_OAI_COMPLETE": f"complete_{shell}", "_OAI_COMPLETE_LINE": line, **env}
    if word is not None:
        env["_OAI_COMPLETE_WORD"] = word
    r = invoke(env=env)
    assert r.code == 0, r
    assert r.err == ""
    return r.out.splitlines()


def write_profiles(home: Path, text: str) -> None:
    config = home / "config"  # OAI_CONFIG_DIR, set by the isolated fixture
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(text)


# -- the scripts ---------------------------------------------------------------------


def test_committed_scripts_are_what_the_app_generates() -> None:
    from tools.gen_completions import main

    for shell, name in FILES.items():
        assert (COMPLETIONS / name).read_text() == script(shell), (
            f"completions/{name} is stale: run python -m tools.gen_completions"
        )
    assert main(["--check"]) == 0


@pytest.mark.parametrize("shell", list(Shell))
def test_show_prints_the_script(shell: Shell) -> None:
    r = invoke("completion", "show", shell.value)
    assert r.code == 0, r
    assert r.out == script(shell)
    assert f"complete_{shell.value}" in r.out
    assert (
        "_OAI_COMPLETE=complete_" in r.out
        or "_OAI_COMPLETE complete_" in r.out
        or "$env:_OAI_COMPLETE = 'complete_" in r.out
    )


def test_show_rejects_other_shells() -> None:
    r = invoke("completion", "show", "tcsh")
    assert r.code == 2, r
    assert r.out == ""
    assert "tcsh" in r.err


# -- the request protocol -----------------------------------------------------------------


def test_subcommands_of_a_nested_group() -> None:
    assert set(complete("bash", "oai fine-tuning jobs ", "")) == JOB_VERBS
    assert set(complete("fish", "oai fine-tuning jobs l")) == {
        "list\tList your fine-tuning jobs",
        "list-events\tList the progress events of a fine-tuning job",
    }
    assert "create:Start fine-tuning a model on an uploaded training file" in complete(
        "zsh", "oai fine-tuning jobs "
    )


def test_top_level_lists_families_and_tools() -> None:
    assert complete("bash", "oai fi", "fi") == ["files", "fine-tuning"]
    assert {"admin", "chat", "auth", "profile", "completion", "api"} <= set(
        complete("bash", "oai ", "")
    )


def test_root_options_before_the_command_are_skipped() -> None:
    line = "oai -p work --max-retries 3 -o json fine-tuning jobs "
    assert set(complete("bash", line, "")) == JOB_VERBS


def test_flags_and_their_descriptions() -> None:
    assert complete("bash", "oai files list --ord", "--ord") == ["--order"]
    assert complete("fish", "oai files list --ord") == [
        "--order\tSort by creation time, oldest or newest first [one of: asc, desc; default: desc]"
    ]
    zsh = complete("zsh", "oai files list --")
    assert (
        "--order:Sort by creation time, oldest or newest first [one of: asc, desc; default: desc]"
        in zsh
    )
    assert any(c.startswith("--all:") for c in zsh)


def test_enum_values() -> None:
    assert complete("bash", "oai files list --order ", "") == ["asc", "desc"]
    assert complete("zsh", "oai files list --order d") == ["desc"]
    assert complete("bash", "oai -o j", "j") == ["json", "jsonl"]


def test_option_equals_value_fits_each_shell() -> None:
    # bash splits `--order=d` at "=" and replaces only the part after it.
    assert complete("bash", "oai files list --order=", "") == ["asc", "desc"]
    assert complete("bash", "oai files list --order=d", "d") == ["desc"]
    # zsh and fish replace the whole word.
    assert complete("fish", "oai files list --order=d") == ["--order=desc"]
    assert complete("zsh", "oai files list --order=") == ["--order=asc", "--order=desc"]


def test_choices_of_a_tool_argument() -> None:
    assert complete("bash", "oai completion show ", "") == ["bash", "zsh", "fish", "powershell"]


def test_powershell_gets_values_with_their_descriptions(isolated: Path) -> None:
    # The script splits each line at the first tab: the value, then its tooltip.
    assert set(complete("powershell", "oai fine-tuning jobs ")) >= {
        "list\tList your fine-tuning jobs",
        "pause\tPause a running fine-tuning job",
    }
    assert [c.split("\t")[0] for c in complete("powershell", "oai fi")] == ["files", "fine-tuning"]
    assert complete("powershell", "oai files list --ord") == [
        "--order\tSort by creation time, oldest or newest first [one of: asc, desc; default: desc]"
    ]
    assert complete("powershell", "oai files list --order ") == ["asc", "desc"]
    assert complete("powershell", "oai files list --order=d") == ["--order=desc"]
    write_profiles(isolated, "[profiles.work]\n[profiles.personal]\n")
    assert complete("powershell", "oai --profile ") == ["personal", "work"]
    assert complete("powershell", "oai auth login --key-file ") == []


def test_powershell_script_speaks_the_protocol() -> None:
    """What the PowerShell script sends and reads, checked against the protocol where
    no PowerShell can run (test_pwsh_completes_from_the_committed_script runs it)."""
    from openai_cli.tab import COMPLETE_VAR, LINE_VAR

    text = script(Shell.powershell)
    assert "Register-ArgumentCompleter -Native -CommandName oai" in text
    assert f"$env:{COMPLETE_VAR} = 'complete_powershell'" in text
    assert f"$env:{LINE_VAR} = $line" in text
    # The line is cut at the cursor and keeps the trailing space of `oai files `.
    assert "$line.Substring(0, $upTo)" in text
    assert "$line.PadRight($upTo)" in text
    # Both variables are removed again, so later commands do not answer as completion.
    assert f"Remove-Item Env:{COMPLETE_VAR}, Env:{LINE_VAR}" in text
    assert '-split "`t", 2' in text
    assert "CompletionResult]::new(" in text


def test_profile_names_come_from_the_config_file(isolated: Path) -> None:
    write_profiles(
        isolated,
        'current_profile = "work"\n[profiles.work]\n[profiles.default]\n[profiles.personal]\n',
    )
    assert complete("bash", "oai --profile ", "") == ["default", "personal", "work"]
    assert complete("bash", "oai -p w", "w") == ["work"]
    assert complete("fish", "oai --profile=p") == ["--profile=personal"]


def test_profile_commands_complete_profile_names(isolated: Path) -> None:
    write_profiles(isolated, "[profiles.work]\n[profiles.personal]\n")
    assert complete("bash", "oai profile use ", "") == ["personal", "work"]
    assert complete("bash", "oai profile delete w", "w") == ["work"]
    assert complete("bash", "oai auth login --profile ", "") == ["personal", "work"]
    assert complete("bash", "oai profile set --profile p", "p") == ["personal"]


def test_profile_completion_with_a_broken_config_offers_nothing(isolated: Path) -> None:
    write_profiles(isolated, "this is [not toml\n")
    assert complete("bash", "oai --profile ", "") == []


def test_paths_leave_it_to_the_shell() -> None:
    # An empty answer makes every script fall back to file names.
    assert complete("bash", "oai auth login --key-file ", "") == []
    assert complete("fish", "oai files create --file ") == []


def test_version_flag_does_not_leak_into_candidates() -> None:
    out = complete("bash", "oai -V ", "")
    assert not any("spec" in line for line in out)
    assert "files" in out


def test_unknown_instruction_is_refused() -> None:
    r = invoke(env={"_OAI_COMPLETE": "source_bash", "_OAI_COMPLETE_LINE": "oai "})
    assert r.code == 2
    assert r.out == ""
    assert "completion" in r.err


def test_a_request_builds_only_the_typed_path_and_never_the_keyring() -> None:
    # A stored profile and a real-looking key file: completion must still not look.
    probe = (
        "import sys\n"
        "from openai_cli.main import run\n"
        "code = run([])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(("
        "'keyring', 'httpx', 'openai_cli.operations.catalogue.', 'openai_cli.http', 'rich')))\n"
        "print('MODULES', code, ' '.join(loaded), file=sys.stderr)\n"
    )
    env = subprocess_env(
        {
            "_OAI_COMPLETE": "complete_bash",
            "_OAI_COMPLETE_LINE": "oai --profile work fine-tuning jobs list --",
            "_OAI_COMPLETE_WORD": "--",
        }
    )
    p = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert "--after" in p.stdout.split()
    line = next(x for x in p.stderr.splitlines() if x.startswith("MODULES"))
    assert line.split()[1] == "0"
    # Answered from the index of the tree: no catalogue module at all.
    assert line.split()[2:] == []
    # A line only Click can answer (after `--`) builds the typed path alone.
    env["_OAI_COMPLETE_LINE"] = "oai --profile work fine-tuning jobs list -- "
    env["_OAI_COMPLETE_WORD"] = ""
    p = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stderr.splitlines() if x.startswith("MODULES"))
    assert line.split()[1:] == ["0", "openai_cli.operations.catalogue.fine_tuning"]


# -- oai completion install ---------------------------------------------------------------


def _install_env(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "", **extra}


@pytest.mark.parametrize(
    ("shell", "where"),
    [
        ("bash", ".local/share/bash-completion/completions/oai"),
        ("zsh", ".zfunc/_oai"),
        ("fish", ".config/fish/completions/oai.fish"),
    ],
)
def test_install_writes_the_script_once(tmp_path: Path, shell: str, where: str) -> None:
    env = _install_env(tmp_path)
    r = invoke("completion", "install", shell, env=env)
    assert r.code == 0, r
    target = tmp_path / where
    assert target.read_text() == script(Shell(shell))
    assert f"Installed the {shell} completion in {target}" in r.err
    assert r.out == ""
    again = invoke("completion", "install", shell, env=env)
    assert again.code == 0, again
    assert f"in {target} is up to date" in again.err


def test_install_replaces_an_old_script(tmp_path: Path) -> None:
    target = tmp_path / ".config/fish/completions/oai.fish"
    target.parent.mkdir(parents=True)
    target.write_text("# an older version\n")
    r = invoke("completion", "install", "fish", env=_install_env(tmp_path))
    assert r.code == 0, r
    assert target.read_text() == script(Shell.fish)
    assert "Installed" in r.err


def test_install_follows_xdg_dirs(tmp_path: Path) -> None:
    env = _install_env(
        tmp_path, XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "cfg")
    )
    assert invoke("completion", "install", "bash", env=env).code == 0
    assert invoke("completion", "install", "fish", env=env).code == 0
    assert (tmp_path / "data/bash-completion/completions/oai").is_file()
    assert (tmp_path / "cfg/fish/completions/oai.fish").is_file()


def test_install_ignores_relative_xdg_dirs_and_refuses_a_relative_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = _install_env(tmp_path / "home", XDG_DATA_HOME="data", XDG_CONFIG_HOME="cfg")
    assert invoke("completion", "install", "bash", env=env).code == 0
    assert invoke("completion", "install", "fish", env=env).code == 0
    assert (tmp_path / "home/.local/share/bash-completion/completions/oai").is_file()
    assert (tmp_path / "home/.config/fish/completions/oai.fish").is_file()
    assert not (tmp_path / "data").exists() and not (tmp_path / "cfg").exists()
    r = invoke("completion", "install", "zsh", env=_install_env(Path("home")))
    assert r.code == 2, r
    assert r.err.startswith("oai: HOME='home' is not an absolute path"), r.err
    assert not (tmp_path / "home/.zfunc").exists()


def test_install_picks_the_shell_from_SHELL(tmp_path: Path) -> None:
    r = invoke("completion", "install", env=_install_env(tmp_path, SHELL="/usr/bin/zsh"))
    assert r.code == 0, r
    assert (tmp_path / ".zfunc/_oai").is_file()
    assert "fpath=(~/.zfunc $fpath)" in r.err


def test_install_zsh_skips_the_fpath_note_when_zshrc_has_it(tmp_path: Path) -> None:
    (tmp_path / ".zshrc").write_text("fpath=(~/.zfunc $fpath)\nautoload -Uz compinit && compinit\n")
    r = invoke("completion", "install", "zsh", env=_install_env(tmp_path))
    assert r.code == 0, r
    assert "fpath=" not in r.err


def test_install_powershell_writes_the_script_and_loads_it_from_the_profile(
    tmp_path: Path,
) -> None:
    env = _install_env(tmp_path)
    folder = tmp_path / ".config/powershell"
    folder.mkdir(parents=True)
    profile = folder / "Microsoft.PowerShell_profile.ps1"
    profile.write_text("Set-PSReadLineOption -EditMode Emacs")  # no newline at the end
    r = invoke("completion", "install", "powershell", env=env)
    assert r.code == 0, r
    target = folder / "oai.ps1"
    assert target.read_text() == script(Shell.powershell)
    assert profile.read_text() == f"Set-PSReadLineOption -EditMode Emacs\n. '{target}'\n"
    assert f"Installed the powershell completion in {target}" in r.err
    assert str(profile) in r.err
    again = invoke("completion", "install", "powershell", env=env)
    assert again.code == 0, again
    assert "is up to date" in again.err
    assert profile.read_text().count("oai.ps1") == 1


def test_install_picks_powershell_from_SHELL_pwsh(tmp_path: Path) -> None:
    env = _install_env(tmp_path, SHELL="/usr/bin/pwsh", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    r = invoke("completion", "install", env=env)
    assert r.code == 0, r
    assert (tmp_path / "cfg/powershell/oai.ps1").is_file()
    assert (tmp_path / "cfg/powershell/Microsoft.PowerShell_profile.ps1").is_file()


def test_install_without_a_known_shell_asks_for_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    r = invoke("completion", "install", env=_install_env(home, SHELL="/bin/tcsh"))
    assert r.code == 2, r
    assert "oai completion install bash|zsh|fish|powershell" in r.err
    assert not any(home.iterdir())


# -- real shells ---------------------------------------------------------------------------


def _need(shell: str) -> str:
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed (CI installs bash-completion, zsh and fish)")
    return path


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose `oai` is this checkout, and whose home has no dotfiles."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "oai"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m openai_cli "$@"\n')
    wrapper.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    return subprocess_env(
        {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "INPUTRC": "/dev/null",
        }
    )


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|[\x07\x08]")


class Terminal:
    """An interactive shell on a pseudo-terminal, for pressing TAB in it."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        import pty

        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
        )
        os.close(slave)

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def read_until(self, done: object, timeout: float = 30) -> str:
        """Screen text (escapes removed) once ``done(text)`` holds, or at the timeout."""
        assert callable(done)
        raw = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    raw += os.read(self.master, 65536)
                except OSError:
                    break
                if done(_ANSI.sub("", raw.decode(errors="replace"))):
                    break
        return _ANSI.sub("", raw.decode(errors="replace"))

    def wait_ready(self, n: int) -> None:
        # The shell prints READY-<n> only when it runs the echo, not when it echoes input.
        self.send(f"echo READY-$(( {n} - 1 + 1 ))\n")
        text = self.read_until(lambda t: f"READY-{n}\r\n" in t or f"READY-{n}\n" in t)
        assert f"READY-{n}" in text, text

    def tab(self, typed: str, *expect: str) -> set[str]:
        """Type ``typed``, press TAB and return the words on screen once ``expect`` show."""
        self.send(typed + "\t")
        screen = self.read_until(lambda t: set(expect) <= _words(t))
        self.send("\x15")  # ^U: clear the line for the next case
        self.read_until(lambda t: False, timeout=0.3)
        return _words(screen)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        os.close(self.master)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w=-]+", text))


def test_bash_completes_from_the_committed_script(
    shell_env: dict[str, str], tmp_path: Path
) -> None:
    bash = _need("bash")
    shell_env["PS1"] = "$ "
    term = Terminal([bash, "--norc", "--noprofile", "-i"], shell_env, tmp_path)
    try:
        term.send(
            f"source {COMPLETIONS / 'oai.bash'}; bind 'set show-all-if-ambiguous on'; "
            "bind 'set completion-query-items 0'; bind 'set page-completions off'\n"
        )
        term.wait_ready(1)
        assert term.tab("oai fine-tuning jobs ", *JOB_VERBS) >= JOB_VERBS
        assert "--order" in term.tab("oai files list --ord", "--order")
        assert {"asc", "desc"} <= term.tab("oai files list --order ", "asc", "desc")
        # bash's word after `--order=` is the "=" itself; the candidates must replace
        # only what follows it (not "=asc", which would give --order==asc).
        after_equals = term.tab("oai files list --order=", "asc", "desc")
        assert {"asc", "desc"} <= after_equals
        assert "=asc" not in after_equals
        assert "--order=desc" in term.tab("oai files list --order=d", "--order=desc")
    finally:
        term.close()


def test_zsh_autoloads_the_committed_script_from_fpath(
    shell_env: dict[str, str], tmp_path: Path
) -> None:
    zsh = _need("zsh")
    zdotdir = tmp_path / "zdot"
    zdotdir.mkdir()
    (zdotdir / ".zshrc").write_text(
        "PS1='%% '\n"
        f"fpath=({COMPLETIONS} $fpath)\n"
        f"autoload -Uz compinit && compinit -u -d {zdotdir}/.zcompdump\n"
        "zstyle ':completion:*' list-prompt ''\n"
        "LISTMAX=0\n"
    )
    shell_env.update({"ZDOTDIR": str(zdotdir), "TERM": "xterm", "COLUMNS": "200"})
    term = Terminal([zsh, "-i"], shell_env, tmp_path)
    try:
        term.wait_ready(1)
        assert term.tab("oai fine-tuning jobs ", *JOB_VERBS) >= JOB_VERBS
        assert "--order" in term.tab("oai files list --ord", "--order")
        assert {"asc", "desc"} <= term.tab("oai files list --order ", "asc", "desc")
    finally:
        term.close()


def test_zsh_script_can_be_sourced_after_compinit(shell_env: dict[str, str]) -> None:
    zsh = _need("zsh")
    p = subprocess.run(
        [
            zsh,
            "-f",
            "-c",
            "autoload -Uz compinit && compinit -u -D; "
            f"source {COMPLETIONS / '_oai'}; print -r -- $_comps[oai]",
        ],
        env=shell_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "_oai"


def _install_in_a_process(shell: str, env: dict[str, str]) -> None:
    """`oai completion install SHELL` run as a user would, by the ``oai`` on PATH."""
    installed = subprocess.run(
        ["oai", "completion", "install", shell],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr


def _fish_complete(fish: str, env: dict[str, str], line: str, source: bool = True) -> list[str]:
    setup = f"source {COMPLETIONS / 'oai.fish'}; " if source else ""
    p = subprocess.run(
        [fish, *(["--no-config"] if source else []), "-c", f"{setup}complete -C {line!r}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    return [row.split("\t")[0] for row in p.stdout.splitlines()]


def test_fish_completes_from_the_committed_script(shell_env: dict[str, str]) -> None:
    fish = _need("fish")
    assert set(_fish_complete(fish, shell_env, "oai fine-tuning jobs ")) == JOB_VERBS
    assert _fish_complete(fish, shell_env, "oai files list --ord") == ["--order"]
    assert _fish_complete(fish, shell_env, "oai files list --order ") == ["asc", "desc"]
    assert _fish_complete(fish, shell_env, "oai files list --order=d") == ["--order=desc"]


def test_fish_falls_back_to_file_names(shell_env: dict[str, str], tmp_path: Path) -> None:
    fish = _need("fish")
    (tmp_path / "batch-input.jsonl").write_text("{}\n")
    got = _fish_complete(fish, shell_env, f"oai files create --file {tmp_path}/batch-in")
    assert got == [f"{tmp_path}/batch-input.jsonl"]


def test_fish_loads_the_installed_script(shell_env: dict[str, str]) -> None:
    fish = _need("fish")
    _install_in_a_process("fish", shell_env)
    got = _fish_complete(fish, shell_env, "oai fine-tuning jobs p", source=False)
    assert got == ["pause"]


def test_bash_completion_loads_the_installed_script(shell_env: dict[str, str]) -> None:
    bash = _need("bash")
    loader = Path("/usr/share/bash-completion/bash_completion")
    if not loader.is_file():
        pytest.skip("bash-completion is not installed (CI installs it)")
    _install_in_a_process("bash", shell_env)
    p = subprocess.run(
        [
            bash,
            "--norc",
            "--noprofile",
            "-c",
            f"source {loader}; __load_completion oai; complete -p oai; "
            "COMP_LINE='oai fine-tuning jobs re'; COMP_POINT=${#COMP_LINE}; "
            "COMP_WORDS=(oai fine-tuning jobs re); COMP_CWORD=3; "
            "_oai_completion oai re jobs; printf '%s\\n' \"${COMPREPLY[@]}\"",
        ],
        env=shell_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "complete -o default -F _oai_completion oai"
    assert lines[1:] == ["resume", "retrieve"]


def test_pwsh_completes_from_the_committed_script(shell_env: dict[str, str]) -> None:
    pwsh = _need("pwsh")

    def tab(line: str) -> list[str]:
        p = subprocess.run(
            [
                pwsh,
                "-NoProfile",
                "-NonInteractive",
                "-Command",
                f". '{COMPLETIONS / 'oai.ps1'}'; "
                f"(TabExpansion2 -inputScript '{line}' -cursorColumn {len(line)})"
                ".CompletionMatches | ForEach-Object { $_.CompletionText }",
            ],
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0, p.stderr
        return p.stdout.split()

    assert set(tab("oai fine-tuning jobs ")) == JOB_VERBS
    assert tab("oai files list --ord") == ["--order"]
    assert tab("oai files list --order ") == ["asc", "desc"]
