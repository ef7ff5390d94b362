"""Pure array kernels (forward and backward) on NumPy or CuPy; see docs/internals.md.

Layout: activations are ``(C, N, *S)`` (channels, batch, spatial axes in MATLAB order h, w, d).
"""
