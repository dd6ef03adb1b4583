"""The one exception tree of `halo`: every error the CLI reports is a `HaloError`, and its kind decides the exit
code (`loader.cli.main.exit_code_of`, the one place that maps them). Cheap to import: no dbt, pydantic or Polars."""


class HaloError(Exception):
    """Base of every error `halo` reports as one line (never a traceback)."""


class UsageError(HaloError):
    """What was asked cannot be done as asked: a bad argument or setting, a wrong owner (exit 2)."""


class NotFoundError(UsageError):
    """Something named on the command line or needed by it does not exist: a path, a player, the metadata (exit 2)."""


class BusyError(HaloError):
    """Another process holds a DuckDB file this command must write (exit 2)."""


class ResourceError(HaloError):
    """The machine refused: a full disk, a read-only folder, no permission. The data is as it was (exit 3)."""


class SettingError(UsageError):
    """A `HALO_*` environment variable holds a value that cannot be used; the message names the variable."""


class UnsafeNameError(UsageError):
    """A gamertag that cannot name a player (empty, or only control characters)."""


class OwnerMismatchError(UsageError):
    """The player database belongs to another XUID than the one given."""


class OwnerUnknownError(UsageError):
    """First load of a player without `--xuid`."""


class MetadataDatabaseMissingError(NotFoundError):
    """A player build needs the shared metadata database, and it has not been loaded yet."""


class DatabaseBusyError(BusyError):
    """Another process (a load, a build, a dashboard) holds the DuckDB file."""


class CredentialsMissingError(UsageError):
    """No Halo API tokens in the environment."""


class ExportFailedError(HaloError):
    """Writing an export failed (disk full, read-only folder): nothing of it was kept (exit 1)."""


class SparkUnavailableError(ResourceError):
    """The spark target cannot start here: no Java runtime or no pyspark."""


class ProjectDefinitionError(HaloError):
    """The dbt project's own files declare something that does not hold (a defect of the project, not of the data
    or the command): fix the yml named in the message (exit 1)."""
