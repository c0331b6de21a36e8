"""Sealed bids, submission and receipts, the remote opening hall (issue 3)."""
