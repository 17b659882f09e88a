"""`python -m evolm` runs the CLI."""

import sys

from evolm.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
