"""torch.nn.utils.rnn: PackedSequence and the functions that pack, pad and unpack
variable-length batches for the recurrent layers. They live in chainrule.nn._packed_sequence,
below both nn.modules (whose RNN, LSTM and GRU take them) and nn.utils (which imports
nn.modules for its parametrizations), so neither imports the other in a cycle.

>>> import chainrule
>>> from chainrule.nn.utils.rnn import pad_sequence
>>> pad_sequence([chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0])]).shape
chainrule.Size([2, 2])
"""

from chainrule.nn._packed_sequence import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]
