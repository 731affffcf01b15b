"""A keyring that accepts a key and keeps nothing is found out at login, not later."""

from __future__ import annotations

import pytest

from tests import keyring_backend
from tests.helpers import invoke

NULL_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
KEY = "sk-newkey0123456789abcdef6789"


@pytest.mark.parametrize("admin", [False, True])
def test_login_into_a_keyring_that_keeps_nothing_fails_and_names_what_works(
    admin: bool,
) -> None:
    key = "sk-admin-0123456789abcdef6789" if admin else KEY
    args = ["auth", "login", "--with-key-stdin", *(["--admin"] if admin else [])]
    r = invoke(*args, input=key, env=NULL_BACKEND)
    assert r.code == 3, r
    assert "Logged in" not in r.err and "stored in" not in r.err
    assert "keyring.backends.null.Keyring" in r.err and "nothing was stored" in r.err
    assert ("OPENAI_ADMIN_KEY" if admin else "OPENAI_API_KEY") in r.err
    assert "--insecure-storage" in r.err
    assert "keyrings.alt" in r.err and "PYTHON_KEYRING_BACKEND=" in r.err
    assert "plain text" in r.err
    # Nothing was written: the profile was not created half-way.
    listed = invoke("profile", "list", "-o", "json")
    assert listed.code == 0 and listed.out.strip() == "[]", listed


def test_login_into_a_keyring_that_keeps_the_key_reads_it_back() -> None:
    r = invoke("auth", "login", "--with-key-stdin", input=KEY)
    assert r.code == 0, r
    assert "stored in the OS keyring" in r.err
    assert keyring_backend.read_all()["oai-cli"]["default:api_key"] == KEY


def test_logout_all_reports_only_what_it_removed() -> None:
    assert invoke("auth", "login", "--with-key-stdin", input=KEY).code == 0
    r = invoke("auth", "logout", "--all")
    assert r.code == 0, r
    assert "Removed the API key of profile 'default' from the OS keyring" in r.err
    assert "admin key" not in r.err


def test_logout_from_a_keyring_that_keeps_nothing_removes_nothing() -> None:
    assert invoke("profile", "set", "model", "gpt-4o-mini").code == 0
    r = invoke("auth", "logout", "--all", env=NULL_BACKEND)
    assert r.code == 0, r
    assert "Removed" not in r.err
    assert "nothing to remove" in r.err
