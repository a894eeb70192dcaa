"""Process assembly: entry points, configuration, services, logging and signals."""
