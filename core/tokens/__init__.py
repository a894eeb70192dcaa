"""Token types: one module per type, each registering its class by type name."""
