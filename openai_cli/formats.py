"""The output formats (``-o``): what the renderer can print, named once.

A module of its own, importing nothing, so that the option's help, the renderer and
the config file's check share the list without importing one another.
"""

OUTPUT_FORMATS = ("auto", "json", "jsonl", "yaml", "table", "raw", "explore")
