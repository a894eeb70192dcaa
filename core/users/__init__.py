"""Users: resolvers that read external user stores, and realms that group them."""
