"""Where every setting comes from: flags, profiles, the environment and defaults.

Importing this package is cheap on purpose: the TOML parser, platformdirs and
keyring are only imported when a value actually needs them, so ``oai --help``
and a CI job that passes ``OPENAI_API_KEY`` never pay for them.
"""

from __future__ import annotations

from openai_cli.config.settings import (
    DEFAULT_BASE_URL,
    Overrides,
    Settings,
    Sourced,
    config_dir,
    config_path,
    load_settings,
    mask_key,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "Overrides",
    "Settings",
    "Sourced",
    "config_dir",
    "config_path",
    "load_settings",
    "mask_key",
]
