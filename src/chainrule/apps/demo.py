"""`make demo`: the main job with its defaults (a CNN on scikit-learn's bundled digits)."""

import sys

from chainrule.apps.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
