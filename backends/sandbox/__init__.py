"""A stand-in codex-k8s world on loopback, for `gateroom demo` and the tests.

Adapters reach it only over the network, exactly as they reach a real installation.
"""
