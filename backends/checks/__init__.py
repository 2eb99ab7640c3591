"""Preflight and security checks: small async functions, adapters in, an `Outcome` out.

Importing this package registers every built-in check.
"""

from backends.checks import envfile_checks as envfile_checks
from backends.checks import host_basics as host_basics
