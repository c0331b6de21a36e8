"""The demo world: a small, realistic market built through every app's real services (top layer)."""
