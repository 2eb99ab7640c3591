"""The gate plan as data: which checks run and which scenarios, with priorities."""
