"""Which adapters each GLOBAL check area asks through: the engine plans an area only when all of them
are configured (a gate without a cluster has no RBAC checks, one without GitHub no approval checks)."""

from __future__ import annotations

AREA_NEEDS: dict[str, tuple[str, ...]] = {
    "github": ("github",),
    "cluster": ("cluster",),
    "platform": ("platform",),
    "rbac": ("cluster",),
    "network": ("cluster",),
    # the scripted security checks start probe runs through GitHub and read their traces in the cluster
    "secrets": ("github", "cluster"),
    "approvals": ("github", "cluster"),
    "reliability": ("github", "cluster"),
}
