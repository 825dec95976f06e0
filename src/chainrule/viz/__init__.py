"""Seeing inside: the backward graph as a picture, gradient norms, a model summary.

`graph(tensor, params=...)` returns a graphviz.Digraph of the backward graph (needs the optional
graphviz package; rendering needs the Graphviz `dot` program). Run a backward inside
`record_gradients()` first and its nodes are coloured by the gradient norm that flowed through
them, which shows vanishing and exploding gradients at a glance. `summary(model, input_shape)`
prints a torchsummary-like table.
"""

from chainrule.viz.picture import graph, norm_colour, record_gradients
from chainrule.viz.tables import ModelSummary, summary

__all__ = ["ModelSummary", "graph", "norm_colour", "record_gradients", "summary"]
