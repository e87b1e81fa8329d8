"""`python -m gateway ...` is the `gateway` console script."""

import sys

from gateway.cli import main

sys.exit(main())
