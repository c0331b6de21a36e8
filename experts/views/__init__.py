"""Thin views of the experts app, one module per part (pool, draw, evaluation, award)."""
