"""Pydantic v2 models of the Halo Infinite API documents the loader accepts."""
