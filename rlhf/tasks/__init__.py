"""One small module per training task; the row schemas live in :mod:`rlhf.tasks.rows` (import-light)."""
