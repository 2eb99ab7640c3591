"""Everything behind the Gate Room UI: settings, engine, adapters, evidence, sandbox.

Nothing in this package imports Textual.
"""
