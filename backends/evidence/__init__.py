"""Session evidence: a hash-chained TinyDB record store plus append-only log files."""
