"""torch.utils.data._utils's counterpart, for the programs that import from it: its `collate`
module is chainrule.data.collate."""

from chainrule.data import collate

__all__ = ["collate"]
