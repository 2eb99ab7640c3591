"""The sandbox's internal registry (`kodex-registry`, hostPort 127.0.0.1:5000): which repositories and
tags it holds, and the Docker Registry v2 answers the host gets from it with curl.

The VPS answers `curl` from here and the simulated runtime deploy pushes what it builds here, so a
build the gate watches in the staff API shows up in the registry the host sees.
"""

from __future__ import annotations

import json

from backends.sandbox import kodex_images as images


class ImageRegistry:
    def __init__(self) -> None:
        #: repository path -> tags in push order
        self._tags: dict[str, list[str]] = {}
        #: the registry Deployment is down (curl cannot connect)
        self.down = False

    @classmethod
    def bootstrapped(cls) -> ImageRegistry:
        """What a bootstrapped installation holds: the images of the last deploy (ai builds included)
        and the mirrored externals."""
        registry = cls()
        for name, version in images.DEPLOYED.items():
            registry.push(images.repository(name), version)
        for path, tag in images.MIRRORED.items():
            registry.push(path, tag)
        return registry

    def push(self, repository: str, tag: str) -> None:
        tags = self._tags.setdefault(repository, [])
        if tag not in tags:
            tags.append(tag)

    def has(self, repository: str, tag: str) -> bool:
        return tag in self._tags.get(repository, [])

    def repositories(self) -> list[str]:
        return sorted(self._tags)

    def tags(self, repository: str) -> list[str] | None:
        found = self._tags.get(repository)
        return list(found) if found is not None else None

    # -- the v2 API's bodies --------------------------------------------------------------------------
    def catalog_json(self) -> str:
        return json.dumps({"repositories": self.repositories()}) + "\n"

    def tags_json(self, repository: str) -> tuple[int, str]:
        """(HTTP status, body) of GET /v2/<repository>/tags/list."""
        tags = self.tags(repository)
        if tags is None:
            error = {"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}
            return 404, json.dumps({"errors": [{**error, "detail": {"name": repository}}]}) + "\n"
        return 200, json.dumps({"name": repository, "tags": tags}) + "\n"
