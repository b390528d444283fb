// WebSocket transport lives here.
