"""Summary protocol buffers for TensorBoard, built from tensors: what `SummaryWriter` logs.

TensorBoard reads event files of `Summary` protos; the `tensorboard` package brings the protos
(and the event-file writer), as it does for PyTorch's `torch.utils.tensorboard`. Each function
here turns chainrule tensors (or numbers, NumPy arrays) into one `Summary` with PyTorch's
conventions, so that TensorBoard shows a ported script's logs as it showed PyTorch's.
"""

from __future__ import annotations

import io
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import numpy_backend

try:
    from google.protobuf import struct_pb2
    from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.plugins.hparams import metadata as hparams_metadata
    from tensorboard.plugins.hparams.api_pb2 import (
        DataType,
        Experiment,
        HParamInfo,
        MetricInfo,
        MetricName,
        Status,
    )
    from tensorboard.plugins.hparams.plugin_data_pb2 import (
        HParamsPluginData,
        SessionEndInfo,
        SessionStartInfo,
    )
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
except ImportError as error:  # as torch.utils.tensorboard says it
    raise ImportError(
        "TensorBoard logging requires TensorBoard: pip install tensorboard "
        "(or pip install 'chainrule[tensorboard]')"
    ) from error

xp = numpy_backend.xp


def host_array(value: Any) -> Any:
    """A NumPy array of `value`: a tensor (detached, on the host), an array, or a number."""
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    return xp.asarray(value)


def scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False):
    """One number: `simple_value`, or with `new_style` a one-element tensor for the scalars
    plugin (float32, or float64 with `double_precision`)."""
    array = host_array(value).squeeze()
    if array.ndim != 0:
        raise AssertionError(
            f"Tensor should contain one element (0 dimensions). Was given size: {array.size} "
            f"and {array.ndim} dimensions."
        )
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    if double_precision:
        proto = TensorProto(double_val=[number], dtype="DT_DOUBLE")
    else:
        proto = TensorProto(float_val=[number], dtype="DT_FLOAT")
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=metadata)])


def tensorflow_bins() -> list[float]:
    """TensorFlow's histogram bucket edges: +-1e-12 growing by 10% to 1e20, and 0."""
    positive = []
    edge = 1e-12
    while edge < 1e20:
        positive.append(edge)
        edge *= 1.1
    return [-edge for edge in reversed(positive)] + [0] + positive


def histogram(tag: str, values: Any, bins: Any, max_bins: int | None = None):
    """A histogram of `values` over `bins` (NumPy's: a count, edges, or a rule such as
    'auto'), merged down to at most `max_bins` buckets; TensorBoard keeps each bucket's right
    edge, so the support starts with an empty bucket whose right edge is the first left one."""
    flat = host_array(values).astype(float).reshape(-1)
    if flat.size == 0:
        raise ValueError("The input has no element.")
    counts, edges = xp.histogram(flat, bins=bins)
    if max_bins is not None and counts.size > max_bins:
        merge = counts.size // max_bins
        short = counts.size % merge
        if short:
            counts = xp.concatenate([counts, xp.zeros(merge - short, dtype=counts.dtype)])
        counts = counts.reshape(-1, merge).sum(axis=-1)
        edges = xp.concatenate([edges[:-1:merge], edges[-1:]])
    occupied = xp.flatnonzero(counts)
    first = int(occupied[0]) if occupied.size else 0
    last = int(occupied[-1]) + 1 if occupied.size else counts.size
    if first > 0:
        counts = counts[first - 1 : last]
    else:
        counts = xp.concatenate([[0], counts[:last]])
    edges = edges[first : last + 1]
    return histogram_raw(
        tag,
        minimum=float(flat.min()),
        maximum=float(flat.max()),
        count=int(flat.size),
        total=float(flat.sum()),
        sum_squares=float(flat.dot(flat)),
        bucket_limits=edges.tolist(),
        bucket_counts=counts.tolist(),
    )


def histogram_raw(
    tag: str,
    minimum: float,
    maximum: float,
    count: float,
    total: float,
    sum_squares: float,
    bucket_limits: Any,
    bucket_counts: Any,
):
    """A histogram from its statistics and buckets (right edges and counts)."""
    proto = HistogramProto(
        min=minimum,
        max=maximum,
        num=count,
        sum=total,
        sum_squares=sum_squares,
        bucket_limit=list(bucket_limits),
        bucket=list(bucket_counts),
    )
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


def text(tag: str, string: str):
    """A string for the text plugin (markdown), under `tag + '/text_summary'` as PyTorch's."""
    content = TextPluginData(version=0).SerializeToString()
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name="text", content=content)
    )
    proto = TensorProto(
        dtype="DT_STRING",
        string_val=[string.encode("utf_8")],
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
    )
    return Summary(
        value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=proto)]
    )


def to_height_width_channels(array: Any, dataformats: str) -> Any:
    """An image array in `dataformats` ('CHW', 'HWC', 'HW', or 'NCHW'-like for a batch laid
    out as a grid of 8 columns) as height x width x 3 (a single channel repeated)."""
    layout = dataformats.upper()
    if len(set(layout)) != len(layout):
        raise AssertionError(
            f"You can not use the same dimension shorthand twice. input_format: {dataformats}"
        )
    if array.ndim != len(layout):
        raise AssertionError(
            "size of input tensor and input format are different. tensor shape: "
            f"{array.shape}, input_format: {dataformats}"
        )
    if len(layout) == 4:
        batch = array.transpose([layout.find(c) for c in "NCHW"])
        return _grid(batch).transpose(1, 2, 0)
    if len(layout) == 3:
        image = array.transpose([layout.find(c) for c in "HWC"])
        return xp.concatenate([image] * 3, axis=2) if image.shape[2] == 1 else image
    plane = array.transpose([layout.find(c) for c in "HW"])
    return xp.stack([plane] * 3, axis=2)


def _grid(batch: Any, columns: int = 8) -> Any:
    """N x C x H x W images side by side, `columns` to a row, as one 3 x H' x W' image."""
    if batch.shape[1] == 1:
        batch = xp.concatenate([batch] * 3, axis=1)
    if batch.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    count, _, height, width = batch.shape
    columns = min(count, columns)
    rows = -(-count // columns)
    canvas = xp.zeros((3, height * rows, width * columns), dtype=batch.dtype)
    for index in range(count):
        row, column = divmod(index, columns)
        canvas[:, row * height : (row + 1) * height, column * width : (column + 1) * width] = batch[
            index
        ]
    return canvas


def image(tag: str, values: Any, dataformats: str = "CHW"):
    """An image, PNG-encoded: floats are taken as [0, 1], uint8 as [0, 255] (clipped)."""
    from PIL import Image  # Pillow, which matplotlib brings; PyTorch needs it here too

    array = to_height_width_channels(host_array(values), dataformats)
    scale = 1 if array.dtype == xp.uint8 else 255
    pixels = (array.astype(xp.float32) * scale).clip(0, 255).astype(xp.uint8)
    height, width, channels = pixels.shape
    encoded = io.BytesIO()
    Image.fromarray(pixels).save(encoded, format="PNG")
    picture = Summary.Image(
        height=height, width=width, colorspace=channels, encoded_image_string=encoded.getvalue()
    )
    return Summary(value=[Summary.Value(tag=tag, image=picture)])


def figure_pixels(figures: Any, close: bool = True) -> Any:
    """Matplotlib figures rendered to RGB: C x H x W, or N x C x H x W for a list."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(figure: Any) -> Any:
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        width, height = figure.canvas.get_width_height()
        rgba = xp.frombuffer(canvas.buffer_rgba(), dtype=xp.uint8).reshape(height, width, 4)
        if close:
            plt.close(figure)
        return xp.moveaxis(rgba[:, :, :3], 2, 0)

    if isinstance(figures, list):
        return xp.stack([render(figure) for figure in figures])
    return render(figures)


def hparams(hparam_dict: dict, metric_dict: dict, domains: dict | None = None) -> tuple:
    """The hparams plugin's three summaries of one run: the experiment (which hyperparameters
    and metrics there are, with each hyperparameter's discrete domain if given), the session
    start (this run's values) and the session end (success).

    As PyTorch's: ints and floats (bools too, being ints) are float64 numbers, strings are
    strings, a tensor gives its first element; None values are left out."""
    for name, name_domain in (domains or {}).items():
        if (
            name not in hparam_dict
            or not isinstance(name_domain, list)
            or not all(isinstance(d, type(hparam_dict[name])) for d in name_domain)
        ):
            raise TypeError(
                f"parameter: hparam_domain_discrete[{name}] should be a list of same type as "
                f"hparam_dict[{name}]."
            )
    kinds = {
        "number_value": "DATA_TYPE_FLOAT64",
        "string_value": "DATA_TYPE_STRING",
    }
    start = SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, Tensor):
            value = float(host_array(value).reshape(-1)[0])
            field = "number_value"
        elif isinstance(value, (int, float)):  # bools too, as PyTorch's
            field = "number_value"
            value = float(value)
        elif isinstance(value, str):
            field = "string_value"
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        setattr(start.hparams[name], field, value)
        domain = None
        if name in (domains or {}):
            domain = struct_pb2.ListValue(
                values=[struct_pb2.Value(**{field: _plain(d)}) for d in domains[name]]
            )
        kind = DataType.Value(kinds[field])
        infos.append(HParamInfo(name=name, type=kind, domain_discrete=domain))

    def plugin_summary(tag: str, **content: Any) -> Any:
        data = HParamsPluginData(version=hparams_metadata.PLUGIN_DATA_VERSION, **content)
        plugin = SummaryMetadata.PluginData(
            plugin_name=hparams_metadata.PLUGIN_NAME, content=data.SerializeToString()
        )
        return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])

    metrics = [MetricInfo(name=MetricName(tag=name)) for name in metric_dict]
    experiment = Experiment(hparam_infos=infos, metric_infos=metrics)
    end = SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))
    return (
        plugin_summary(hparams_metadata.EXPERIMENT_TAG, experiment=experiment),
        plugin_summary(hparams_metadata.SESSION_START_INFO_TAG, session_start_info=start),
        plugin_summary(hparams_metadata.SESSION_END_INFO_TAG, session_end_info=end),
    )


def _plain(value: Any) -> Any:
    """A number as a float (protobuf's double), a string as itself."""
    return value if isinstance(value, str) else float(value)
