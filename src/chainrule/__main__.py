"""`python -m chainrule train|evaluate ...`, the same as the `chainrule` console script."""

import sys

from chainrule.apps.cli import main

sys.exit(main())
