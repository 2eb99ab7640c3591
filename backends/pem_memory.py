"""PEM blobs handed to OpenSSL as paths without touching a disk.

Python's `ssl` loads a certificate chain only from a path. A memfd is an anonymous file in memory:
its `/proc/self/fd/N` path is readable while the descriptor is open and gone once it is closed, so
a key read over SSH (k3s.yaml) reaches the TLS context without ever being written to storage.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from backends.errors import AdapterError, ErrorKind


@contextmanager
def pem_paths(*blobs: bytes) -> Iterator[list[str]]:
    if not hasattr(os, "memfd_create"):
        raise AdapterError(ErrorKind.LOCAL, "keeping a key in memory needs Linux (memfd_create)")
    fds: list[int] = []
    try:
        for blob in blobs:
            fd = os.memfd_create("gateroom-pem", os.MFD_CLOEXEC)
            fds.append(fd)
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view) :]
        yield [f"/proc/self/fd/{fd}" for fd in fds]
    finally:
        for fd in fds:
            os.close(fd)
