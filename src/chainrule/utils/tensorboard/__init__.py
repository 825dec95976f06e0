"""TensorBoard logging under PyTorch's path (`torch.utils.tensorboard`): `SummaryWriter`.

Needs the `tensorboard` package (`pip install 'chainrule[tensorboard]'`), as PyTorch's does;
importing this module without it raises ImportError saying so.
"""

from chainrule.utils.tensorboard import summary
from chainrule.utils.tensorboard.writer import SummaryWriter

__all__ = ["SummaryWriter", "summary"]
