"""Pure array kernels (forward and backward) on NumPy or CuPy; see docs/ops.md, docs/internals.md.

Notation (every op; 1, 2 or 3 spatial dims, D = number of spatial dims)::

    C  channels            N  observations (batch)       S = (h, w[, d])  spatial sizes
    F  filters (conv out)  K  kernel/pool sizes           k = prod(K)  kernel offsets
    s  stride              d  dilation                    (before, after)  padding per dim
    O  output sizes        O = floor((S + before + after - ((K - 1) d + 1)) / s) + 1
    L  prod(O)             M = N * prod(S)  values per channel (batch norm)

Layout: activations are ``(C, N, *S)`` (channels, batch, then the spatial axes in MATLAB order
h, w, d); conv weights ``(F, C, *K)``; vectors ``(C,)``/``(F,)``; class scores ``(K, N)``.
Every op is a pair ``<op>_forward(...) -> (y, cache)`` / ``<op>_backward(dy, cache[, need])``;
a cache of several values is a NamedTuple defined beside the op (``ConvCache``, ``FcCache``...);
the array module follows the data (``_backend.get_xp``) and the dtype follows the input.
Modules: convolution (a package: ``select`` picks the algorithm), transposed_convolution,
batchnorm, group_norm, activation, elementwise, dropout, pooling, global_pooling, crop, combine,
fully_connected, loss, segmentation_loss, initializers; helpers _backend (the only cupy user),
_shapes (sizes, padding), _erf, _cpu (private CPU runtime: threads, BLAS threads, memory).
"""
