"""`halo sync`: fetch new matches from the Halo Infinite API with SPNKr, keep them as received, load them.

See `loader.sync.engine` for the algorithm, `loader.sync.shared` for matches taken from other tracked
players' databases instead of the API, `loader.sync.client` for credentials and retries,
`loader.sync.store` for the inbox and the sync state files. What is printed lives in `loader.cli.sync`.
"""

from loader.sync.client import EXPIRED_MESSAGE, SyncOptions
from loader.sync.engine import PlayerReport, SyncReport, sync

__all__ = ["EXPIRED_MESSAGE", "PlayerReport", "SyncOptions", "SyncReport", "sync"]
