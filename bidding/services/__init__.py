"""Bidding services (writes): one module per area; each function is transactional and journals."""
