"""Using finished models: streamed generation and reward scoring (the Chat & Score tab, ``generate``/``score``)."""
