"""Hand-written command groups (``oai auth``, ``oai profile``, ...), each a Typer app
loaded only when its group is invoked."""
