"""oai: a command-line client for the whole OpenAI REST API."""

__version__ = "0.1.0"
