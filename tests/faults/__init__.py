"""Fault injection: the CLI against local servers that misbehave on purpose."""
