"""`torch.utils.model_zoo`: the pre-1.0 home of the pretrained-weight loader, still imported
by model files of that era (`model_zoo.load_url(model_urls["resnet18"])`). `load_url` is
`chainrule.hub.load_state_dict_from_url`, as PyTorch's module re-exports torch.hub's.

>>> from chainrule.utils import model_zoo
>>> import chainrule.hub
>>> model_zoo.load_url is chainrule.hub.load_state_dict_from_url
True
"""

from chainrule.hub import load_state_dict_from_url as load_url

__all__ = ["load_url"]
