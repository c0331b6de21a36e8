"""Market entities and their people, keys and certificates, credit, tenders, announcements, open data."""
