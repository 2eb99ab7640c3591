"""Why an export or a verification could not go on (one line each, never a traceback)."""

from __future__ import annotations

from backends.errors import GateError


class BundleError(GateError):
    """The export stopped: an existing target, a broken chain, a secret in the content."""


class UnusableBundle(GateError):
    """`verify` was given something that is not a bundle at all (missing path, unreadable archive)."""
