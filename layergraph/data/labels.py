"""``splitEachLabel`` and ``countEachLabel`` of an imageDatastore."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from ._common import error, global_generator, parse_name_value
from .files import ImageDatastore

__all__ = ["splitEachLabel", "countEachLabel"]


def _labelled(imds: Any, func: str) -> ImageDatastore:
    if not isinstance(imds, ImageDatastore):
        raise error(func, "InvalidDatastore", f"{func} needs an ImageDatastore. Received: "
                    f"{type(imds).__name__}.")
    if not len(imds.Labels):
        raise error(func, "NoLabels", f"{func} needs labels: create the datastore with "
                    "LabelSource='foldernames' or Labels. Received: a datastore without Labels.")
    return imds


def countEachLabel(imds: ImageDatastore) -> pd.DataFrame:
    """``T = countEachLabel(imds)``: a DataFrame with columns Label (categorical) and Count.

    One row per category of ``imds.Labels``, in category order.
    """
    labels = _labelled(imds, "countEachLabel").Labels
    counts = pd.Series(labels).value_counts(sort=False).reindex(labels.categories, fill_value=0)
    return pd.DataFrame({"Label": pd.Categorical(labels.categories, categories=labels.categories),
                         "Count": counts.to_numpy(dtype=np.int64)})


def splitEachLabel(imds: ImageDatastore, *args: Any, **kwargs: Any) -> tuple[ImageDatastore, ...]:
    """``imds1, ..., imdsM = splitEachLabel(imds, p1, ..., pN [, "randomized"], Include=, Exclude=)``.

    Each p is a fraction in (0, 1) of every label's files (rounded down) or a whole number of
    files per label; the last datastore gets the remaining files. Files keep the order of
    ``imds`` (with "randomized", which files go where is drawn from ``rng``'s generator).
    Include / Exclude: labels to split (the others are left out of every output).
    """
    func = "splitEachLabel"
    imds = _labelled(imds, func)
    props, rest, randomized = [], list(args), False
    while rest and not isinstance(rest[0], str):
        props.append(rest.pop(0))
    if rest and isinstance(rest[0], str) and rest[0].lower() in ("randomized", "randomize"):
        randomized = True
        rest.pop(0)
    opts = parse_name_value(rest, kwargs, ["Include", "Exclude"], func)
    if not props:
        raise error(func, "MissingProportion", "Give at least one proportion p (a fraction in "
                    "(0, 1) or a number of files).")
    labels = imds.Labels
    chosen = _chosen_labels(labels, opts, func)
    codes = np.asarray(labels.codes)
    parts: list[list[int]] = [[] for _ in range(len(props) + 1)]
    for category in chosen:
        members = np.flatnonzero(codes == labels.categories.get_loc(category))
        if randomized:
            members = members[global_generator().permutation(members.size)]
        start = 0
        for k, count in enumerate(_counts(props, members.size, category, func)):
            parts[k] += members[start:start + count].tolist()
            start += count
        parts[-1] += members[start:].tolist()
    return tuple(imds._subset(np.sort(np.asarray(p, dtype=np.int64))) for p in parts)


def _chosen_labels(labels: pd.Categorical, opts: dict, func: str) -> list:
    present = [c for c in labels.categories if (labels == c).any()]
    for name in ("Include", "Exclude"):
        if name in opts:
            wanted = opts[name]
            wanted = [wanted] if isinstance(wanted, str) else [str(w) for w in wanted]
            unknown = [w for w in wanted if w not in map(str, labels.categories)]
            if unknown:
                raise error(func, f"Invalid{name}", f"{name} must name labels of the datastore "
                            f"({', '.join(map(str, labels.categories))}). Received: {unknown}.")
            keep = set(wanted)
            present = [c for c in present if (str(c) in keep) == (name == "Include")]
    return present


def _counts(props: list, n: int, label: Any, func: str) -> list[int]:
    """Files per output for one label of ``n`` files."""
    ok = all(isinstance(p, (numbers.Real, np.number)) and not isinstance(p, bool) and p > 0
             and np.isfinite(p) for p in props)
    fractions = ok and all(p < 1 for p in props)
    whole = ok and all(float(p) == int(p) and p >= 1 for p in props)
    if not (fractions or whole):
        raise error(func, "InvalidProportion", "Proportions must all be fractions in (0, 1) or "
                    f"all whole numbers of files >= 1. Received: {props}.")
    if fractions:
        if sum(props) > 1 + 1e-12:
            raise error(func, "ProportionsExceedOne", f"The fractions must add up to at most 1. "
                        f"Received: {props} (sum {sum(props):g}).")
        return [int(np.floor(p * n + 1e-9)) for p in props]
    counts = [int(p) for p in props]
    if sum(counts) > n:
        raise error(func, "NotEnoughFiles", f"Label '{label}' has {n} files, fewer than the "
                    f"{sum(counts)} requested ({counts}).")
    return counts
