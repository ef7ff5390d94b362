"""MATLAB property-assignment rules shared by LayerGraph and the network objects."""
from __future__ import annotations

from typing import Any

from ..layers.errors import MException


def check_assignment(obj: Any, name: str, value: Any) -> None:
    """Let ``obj.name = value`` through only for private names and properties with a setter.

    MATLAB objects have no ad hoc fields: a misspelt ``lgraph.layers = ...`` or ``net.state =
    ...`` raises ``MATLAB:noPublicFieldForClass`` (a read-only property
    ``MATLAB:class:SetProhibited``) instead of silently adding an attribute.
    """
    cls = type(obj)
    prop = getattr(cls, name, None)
    if name.startswith("_") or (isinstance(prop, property) and prop.fset is not None):
        return
    if isinstance(prop, property):
        raise MException("MATLAB:class:SetProhibited",
                         f"You cannot set the read-only property '{name}' of {cls.__name__}. "
                         f"Received: {name}={value!r:.60}.")
    settable = [n for n in dir(cls) if isinstance(getattr(cls, n), property) and getattr(cls, n).fset]
    raise MException("MATLAB:noPublicFieldForClass",
                     f"Unrecognized property '{name}' for class '{cls.__name__}'. "
                     f"Settable properties: {', '.join(settable) or 'none'}.")
