"""Access to the OpenAI REST API: the generated operation catalogue."""
