"""`torch.signal`: window functions for spectral analysis and filter design (`windows`)."""

from chainrule.signal import windows

__all__ = ["windows"]
