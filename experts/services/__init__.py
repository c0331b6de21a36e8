"""Every state change of the experts app: pool, draw, evaluation room, publicity and award."""
