"""Which log sources a gate follows, from its settings: the one place that maps config to sources.

hosts[].journal_units   → a `JournalSource` per host (`journalctl -f` of those units over SSH)
logs.files              → a `FileSource` per file (local, or on a named host over SSH)
logs.pods               → a `PodLogSource` per entry, when a cluster adapter is available
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backends.config import Settings
from backends.host import StreamingHost
from backends.logs.files import FileSource
from backends.logs.journal import JournalSource
from backends.logs.source import LogSource


def log_sources(
    settings: Settings, hosts: Mapping[str, StreamingHost], cluster: Any = None
) -> list[LogSource]:
    sources: list[LogSource] = []
    for host_settings in settings.hosts:
        host = hosts.get(host_settings.name)
        if host is not None and host_settings.journal_units:
            sources.append(
                JournalSource(host, host_settings.journal_units, backlog=settings.logs.journal_backlog)
            )
    for spec in settings.logs.files:
        if spec.host is None:
            sources.append(FileSource(spec.path))
        elif spec.host in hosts:
            sources.append(FileSource(spec.path, host=hosts[spec.host]))
    if cluster is not None and settings.cluster is not None and settings.cluster.via_host is not None:
        from backends.logs.forward import ForwardGapSource

        sources.append(ForwardGapSource(cluster, settings.cluster.via_host))
    if cluster is not None:
        from backends.logs.pods import PodLogSource

        for pod_spec in settings.logs.pods:
            sources.append(
                PodLogSource(
                    cluster,
                    namespace=pod_spec.namespace,
                    namespace_selector=pod_spec.namespace_selector,
                    selector=pod_spec.selector,
                    container=pod_spec.container,
                )
            )
    return sources
