"""The demo world: a small, realistic market built through the real services."""
