"""Real architectures at real sizes, built offline with random weights (``python -m rlhf build-model``)."""
