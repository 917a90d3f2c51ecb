"""Database plumbing: the PostgreSQL backend's flush, and the owner/app role split."""
