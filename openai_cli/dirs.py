"""Where oai keeps its files: the config, state and data folders, named once.

Each folder is its variable's (``OAI_CONFIG_DIR``, ``OAI_STATE_DIR``,
``OAI_DATA_DIR``, ``~`` expanded) or the platform's folder for user files, which
platformdirs knows. Importing platformdirs costs about twice a whole TAB (it brings
pathlib, tempfile and shutil), so on Linux, where the XDG rule is two lines, the
plain cases are answered here: an absolute ``$XDG_*_HOME``, or none and an absolute
``HOME``. Anything else (a relative or padded XDG value, no ``HOME``, Android, macOS,
Windows) is platformdirs' to answer. ``tests/unit/test_dirs.py`` holds the two to the
same answers over generated environments, and fails on a module that asks
platformdirs or reads these variables itself.

Nothing here creates a folder: a TAB only reads, and a writer makes its folder
(``state.state_dir``, ``config.lock.private_dir``).
"""

from __future__ import annotations

import os
import sys

# Not collections.abc, which a TAB does without.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

APP = "oai"
# The one file of the config folder.
CONFIG_FILE = "config.toml"
CONFIG, STATE, DATA = "config", "state", "data"
# The variable that names each folder; the settings table's rows take them from here.
VARIABLES = {CONFIG: "OAI_CONFIG_DIR", STATE: "OAI_STATE_DIR", DATA: "OAI_DATA_DIR"}
# The XDG variable of each, and its folder under the home when it is not set.
_XDG = {
    CONFIG: ("XDG_CONFIG_HOME", ".config"),
    STATE: ("XDG_STATE_HOME", ".local/state"),
    DATA: ("XDG_DATA_HOME", ".local/share"),
}


def folder(kind: str, env: Mapping[str, str]) -> str:
    """The folder of ``kind`` (:data:`CONFIG`, :data:`STATE` or :data:`DATA`)."""
    chosen = env.get(VARIABLES[kind], "").strip()
    if chosen:
        return os.path.expanduser(chosen)
    return platform_folder(kind)


def platform_folder(kind: str) -> str:
    """The platform's folder of ``kind`` for oai, as platformdirs names it."""
    plain = xdg_folder(kind, os.environ)
    if plain is not None:
        return plain
    import platformdirs

    # platformdirs reads the process's environment, so the rule above does too.
    try:
        named: str = getattr(platformdirs, f"user_{kind}_dir")(APP, appauthor=False)
    except RuntimeError:
        # No home to be found (no HOME, and a user the password database does not
        # know, as in some containers): a setting to fix, not a failure of oai.
        from openai_cli.errors import ConfigError

        raise ConfigError(
            f"no home folder to put oai's {kind} folder in",
            hint=f"set HOME to an absolute path, or {VARIABLES[kind]}",
        ) from None
    return named


def xdg_folder(kind: str, environ: Mapping[str, str]) -> str | None:
    """The XDG folder of ``kind`` where every platformdirs since 4.0 agrees on it,
    else None."""
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel"):
        return None
    if "ANDROID_DATA" in environ or "ANDROID_ROOT" in environ:
        return None
    variable, under_home = _XDG[kind]
    base = environ.get(variable, "")
    if base:
        # platformdirs 4.0 takes a relative value as it is, later releases ignore it;
        # 4.0 keeps surrounding spaces that later ones do not treat as a path at all.
        if not os.path.isabs(base) or base != base.strip():
            return None
        return os.path.join(base, APP)
    home = environ.get("HOME", "")
    if not os.path.isabs(home):
        # Without it the home comes from the password database: platformdirs' call.
        return None
    return os.path.join(os.path.expanduser("~/" + under_home), APP)
