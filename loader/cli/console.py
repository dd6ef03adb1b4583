"""The consoles every `halo` command prints to, and the bridge from the stages' log records to stderr.

The stages never print: they return results and log warnings (`logging`); this package owns every line.
Output to a file or a pipe is never wrapped or cut at a terminal width.
"""

import logging
import sys

from rich.console import Console

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


class _ConsoleHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        err.print(record.getMessage(), markup=False)


def show_stage_logs() -> None:
    """Print the warnings the stages log (a lock wait, a skipped file) on stderr, once per process."""
    root = logging.getLogger("loader")
    if not any(isinstance(h, _ConsoleHandler) for h in root.handlers):
        root.addHandler(_ConsoleHandler(logging.INFO))
        root.setLevel(logging.INFO)
        root.propagate = False


def error_line(message: str) -> None:
    """The one line a failed command ends with."""
    err.print(f"[red]error:[/red] {message}")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
