"""MException: MATLAB's error object, as a Python exception.

Every user-facing error in the package is an ``MException`` carrying a MATLAB-style
``identifier`` ("component:function:Reason") and a message that names the argument, the
value received and what is allowed.
"""


class MException(ValueError):
    """Error with a MATLAB identifier.

    >>> e = MException("nnet_cnn:resnetLayers:NotEqualVectorSizes", "NumFilters ...")
    >>> e.identifier
    'nnet_cnn:resnetLayers:NotEqualVectorSizes'
    """

    def __init__(self, identifier: str, message: str):
        super().__init__(message)
        self.identifier = identifier
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.identifier}]"


class MIndexError(MException, IndexError):
    """An index out of range (MATLAB ``MATLAB:badsubscript``); also an ``IndexError``."""
