"""Word vectors: readers for the usual file formats and sparkner's memory-mapped store."""
