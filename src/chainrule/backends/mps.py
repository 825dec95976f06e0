"""`torch.backends.mps`: Apple's Metal backend, which chainrule does not have."""


def is_available() -> bool:
    """False: no MPS backend."""
    return False


def is_built() -> bool:
    """False: no MPS backend."""
    return False
