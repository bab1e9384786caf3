"""User formatting functions: loading, isolated execution, per-task validation and templates."""

from rlhf.formatting.user_code import UserCode

__all__ = ["UserCode"]
