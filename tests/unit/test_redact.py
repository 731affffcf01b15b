"""Masking by value: every spelling of a registered key, nothing shorter than a key."""

from __future__ import annotations

import json
from urllib.parse import quote

from openai_cli.http.redact import add_secret, redact


def test_a_registered_key_is_masked_in_every_spelling() -> None:
    key = 'gw/Key+with"odd=chars&1'
    add_secret(key)
    text = f"h: {key} url: ?k={quote(key, safe='')} body: {json.dumps({'k': key})}"
    shown = redact(text)
    assert shown == 'h: *** url: ?k=*** body: {"k": "***"}'


def test_an_sk_key_keeps_its_prefix_and_a_placeholder_is_left_alone() -> None:
    add_secret("sk-unit-0123456789")
    add_secret("none")
    assert redact("a sk-unit-0123456789 b none") == "a sk-*** b none"
