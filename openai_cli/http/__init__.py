"""HTTP transport: the client, retries and the event-stream decoder."""
