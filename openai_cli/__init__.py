"""oai: a command-line client for the whole OpenAI REST API."""

__version__ = "0.1.0"


def version_text() -> str:
    from openai_cli.operations.catalogue import SPEC_VERSION

    return f"oai {__version__} (OpenAI API spec {SPEC_VERSION})"
