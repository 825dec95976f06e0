"""Benchmarks: chainrule and PyTorch timed side by side; see benchmarks/README.md."""
