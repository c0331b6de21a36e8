"""Collusion monitoring: relationship graphs, price screens, anomaly models, alerts."""
