"""Running an initialised graph: the executor, its fusions, solver steps and the data boundary.

Modules: executor (forward/backward over a graph), fusion (layer folds), layout (MATLAB <-> internal arrays),
solvers (SGDM / Adam / RMSProp steps).
"""
__all__: list[str] = []
