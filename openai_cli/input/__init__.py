"""Turning command-line input (flags, files, stdin) into request bodies."""
