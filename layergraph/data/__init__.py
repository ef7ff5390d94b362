"""Data from disk: MATLAB's datastores, file readers and image augmentation.

``imageDatastore``, ``fileDatastore``, ``arrayDatastore``, ``combine``, ``transform``,
``augmentedImageDatastore``, ``randomPatchExtractionDatastore``; the datastore functions
(``read``, ``readall``, ``hasdata``, ``reset``, ``preview``, ``shuffle``, ``subset``,
``partition``, ``numpartitions``, ``splitEachLabel``, ``countEachLabel``); readers
(``niftiread``, ``niftiinfo``) and augmentation (``imageDataAugmenter``,
``randomAffine3d``, ``imwarp``). See docs/data.md.
"""
from . import arrays, combined, datastore, files, labels, readers
from .arrays import *  # noqa: F401,F403
from .combined import *  # noqa: F401,F403
from .datastore import *  # noqa: F401,F403
from .datastore import Datastore  # noqa: F401
from .files import *  # noqa: F401,F403
from .labels import *  # noqa: F401,F403
from .readers import *  # noqa: F401,F403

__all__ = (arrays.__all__ + combined.__all__ + datastore.__all__ + files.__all__
           + labels.__all__ + readers.__all__)
