"""`python -m loader.cli`: the `halo` command."""

import sys

from loader.cli.main import main

sys.exit(main())
