"""The authentication core: synchronous, Twisted-free domain logic over the SQL store."""
