"""Preflight and security checks: small async functions, adapters in, an `Outcome` out.

Importing this package registers every built-in check. Registration order is the order the engine
plans and the pane lists checks in (basics before details), hence the hand-kept import order.
"""

# ruff: noqa: I001
from backends.checks import host_basics as host_basics
from backends.checks import host_system as host_system
from backends.checks import host_k3s as host_k3s
from backends.checks import host_images as host_images
from backends.checks import host_network as host_network
from backends.checks import host_access as host_access
from backends.checks import host_dns_tls as host_dns_tls
from backends.checks import envfile_checks as envfile_checks
from backends.checks import env_values as env_values
from backends.checks import env_labels as env_labels
from backends.checks import env_secrets as env_secrets
from backends.checks import github_checks as github_checks
from backends.checks import cluster_checks as cluster_checks
from backends.checks import platform_checks as platform_checks
from backends.checks import security_rbac as security_rbac
from backends.checks import security_leaks as security_leaks
from backends.checks import security_approvals as security_approvals
from backends.checks import security_reliability as security_reliability
from backends.checks import security_network as security_network
