"""`torch.backends.cudnn`'s flags, kept and unused: chainrule's GPU backend is CuPy, without
cuDNN."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: chainrule does not use cuDNN."""
    return False


def version() -> None:
    """None, as PyTorch answers without cuDNN."""
    return None
