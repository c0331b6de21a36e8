"""Bidding data model: filled in by the sealed-bid issue."""
