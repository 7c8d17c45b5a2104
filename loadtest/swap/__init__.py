"""A version swap under load: latency and errors before, during and after a new version loads."""
