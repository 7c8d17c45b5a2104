"""Benchmarks: the embedded server against its floor and the FastAPI baseline users pick."""
