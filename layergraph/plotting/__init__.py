"""Pictures of networks and training: ``plot(lgraph)``, the analyzer page, training progress.

Tier: above ``graph`` and ``builders``, below ``runtime``. matplotlib (the ``plot`` extra) is
imported only when a figure is drawn; the layout and the analyzer page need NumPy alone.
"""
from .analyzer import NetworkAnalysis, analyzeNetwork
from .graph_plot import GraphPlot, plot

__all__ = ["plot", "analyzeNetwork", "NetworkAnalysis"]
