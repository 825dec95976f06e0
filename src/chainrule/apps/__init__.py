"""The command-line applications: `chainrule train` and `chainrule evaluate`."""
