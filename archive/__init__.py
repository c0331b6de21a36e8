"""The bottom layer: the append-only hash-chained journal, the content-addressed document store."""
