"""``python -m minivi ...``: see :mod:`minivi.cli`."""

import sys

from minivi.cli import main

if __name__ == "__main__":
    sys.exit(main())
