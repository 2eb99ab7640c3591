"""The Gate Room terminal UI and command line. Renders state and sends intents; no I/O of its own."""
