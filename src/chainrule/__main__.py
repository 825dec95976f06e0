"""`python -m chainrule train|evaluate ...`, the same as the `chainrule` console script."""

import sys

from chainrule.apps.cli import main

if __name__ == "__main__":  # importing the module (as doc tools do) runs nothing
    sys.exit(main())
