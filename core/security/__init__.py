"""Security modules: encryption of secrets at rest, random numbers, keyed MACs."""
