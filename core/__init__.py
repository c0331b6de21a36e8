"""Project-wide building blocks below every app: domain errors, canonical hashing, API glue.

Nothing here knows of tenders or bids; every app may import it (see the import-linter contract).
"""
