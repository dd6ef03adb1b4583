"""Deterministic demo data in the Halo Infinite API's shapes (see `loader.demo.generate`)."""

from loader.demo.generate import DemoManifest, generate_demo, generate_player_matches

__all__ = ["DemoManifest", "generate_demo", "generate_player_matches"]
