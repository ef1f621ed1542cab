"""Datasets: readers for each source, the shared schema, and the processed dataset."""
