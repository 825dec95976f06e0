"""`torch.backends.openmp`: chainrule's intra-op threads are its own pool and the BLAS's
(backend/parallel.py), not OpenMP's."""


def is_available() -> bool:
    """False: no OpenMP runtime of chainrule's own."""
    return False
