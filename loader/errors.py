"""The errors `halo` reports as usage errors (exit code 2), in a module cheap to import: `halo build` and
`halo docs` need them without importing the loader's validation stack (pydantic models, Polars, SPNKr)."""


class UsageError(Exception):
    """A path given on the command line does not exist."""


class OwnerMismatchError(RuntimeError):
    """The player database belongs to another XUID than the one given."""


class OwnerUnknownError(RuntimeError):
    """First load of a player without `--xuid`."""


class MetadataDatabaseMissingError(RuntimeError):
    """A player build needs the shared metadata database, and it has not been loaded yet."""
