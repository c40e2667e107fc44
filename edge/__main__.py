"""`python -m edge` is the `emotion-edge` command."""

import sys

from edge.cli import main

sys.exit(main())
