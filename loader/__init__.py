"""Halo Infinite stats warehouse: validate API JSON and load it into per-player DuckDB files."""
