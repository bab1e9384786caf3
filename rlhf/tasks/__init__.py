"""One small module per training task, each with its ``SPEC`` (see :mod:`rlhf.tasks.spec`); the registry in
:mod:`rlhf.tasks.registry` finds them. Task modules import only light modules at the top: the heavy ones
(torch, TRL) inside ``build``."""
