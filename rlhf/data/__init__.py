"""Datasets in: sources (Hub, local files, the bundled sample), layout detection, streamed record batches."""
