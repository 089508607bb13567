"""sftpgate storage backend on PostgreSQL (sample, Python SDK)."""

from .backend import PostgresBackend

__all__ = ["PostgresBackend"]
