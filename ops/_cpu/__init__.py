"""Private CPU runtime of the ops: threads, BLAS thread control and memory.

* ``parallel``: the ops' worker threads (``run`` over items, ``split``, ``owning_cores``,
  the thread count from affinity, cgroup quota and OMP/OPENBLAS limits);
* ``tile_threads``: groups of tiles on those threads (convolution), ``in_pair``;
* ``blas_threads``: OpenBLAS's per-thread thread count (``thread_local``);
* ``memory``: glibc malloc tuning (``keep_freed_memory``, applied by the layergraph entry
  points: training and inference) and ``available_bytes``.

GPU arrays bypass all of it (``like=`` arguments).
"""
