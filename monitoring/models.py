"""Monitoring data model: filled in by the monitoring issue."""
