"""The consoles every `halo` command prints to, and the bridge from the stages' log records to stderr.

The stages never print: they return results and log warnings (`logging`); this package owns every line.
Output to a file or a pipe is never wrapped or cut at a terminal width.
"""

import logging

from rich.console import Console

UNCUT_WIDTH = 100_000  # a file or a pipe has no width: tables and paths are never folded at 80 columns


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr, soft_wrap=True, highlight=False)
    if not console.is_terminal:
        console.width = UNCUT_WIDTH
    return console


out = _console(stderr=False)
err = _console(stderr=True)


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
