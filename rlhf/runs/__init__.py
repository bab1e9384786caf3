"""Runs: config, run folder, events, and the process manager with its on-disk queue."""
