"""HTTP, GraphQL and websocket adapters: translate requests to service calls and back."""
