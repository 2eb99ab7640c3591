"""The evidence bundle: what `gateroom export` writes and `gateroom verify` checks."""
