"""The shared expert pool, the verifiable draw, remote evaluation and award."""
