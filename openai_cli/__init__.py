"""oai: a command-line client for the whole OpenAI REST API."""

__version__ = "0.1.0"
# Set by the completion scripts (completions/) for a TAB, which openai_cli/tab.py
# answers; named here so that main() can tell one before it imports anything.
COMPLETE_VAR = "_OAI_COMPLETE"


def version_text() -> str:
    from openai_cli.operations.catalogue import SPEC_VERSION

    return f"oai {__version__} (OpenAI API spec {SPEC_VERSION})"
