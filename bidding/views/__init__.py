"""Bidding views, one module per area; each defines its own urlpatterns."""
