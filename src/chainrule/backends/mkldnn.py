"""`torch.backends.mkldnn`'s flags, kept and unused: chainrule's CPU kernels are NumPy's (and
its BLAS), not oneDNN."""

enabled = True
deterministic = False


def is_available() -> bool:
    """False: no oneDNN backend."""
    return False
