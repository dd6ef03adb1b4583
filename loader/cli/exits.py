"""Exit codes of `halo`, and the one mapping from the error tree (`loader.core.errors`) to them."""

from loader.core.errors import BusyError, HaloError, ResourceError, UsageError

EXIT_OK = 0          # everything loaded / built / synced
EXIT_REJECTED = 1    # something was rejected or failed; the rest was done
EXIT_USAGE = 2       # usage error: bad arguments or settings, missing path or player, wrong owner, busy database
EXIT_RESOURCE = 3    # the machine refused (disk full, read-only folder, no permission); the data is as it was
EXIT_INTERRUPTED = 130  # Ctrl-C (the shell's convention: 128 + SIGINT); a load or build was rolled back

_EXIT_CODES: tuple[tuple[type[HaloError], int], ...] = (
    (UsageError, EXIT_USAGE),       # NotFoundError, SettingError, owner errors, unsafe names, missing credentials
    (BusyError, EXIT_USAGE),
    (ResourceError, EXIT_RESOURCE),
)


def exit_code_of(error: HaloError) -> int:
    """The exit code of an error `halo` reports (its kind decides)."""
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            return code
    return EXIT_REJECTED
