"""Data from disk: MATLAB's datastores, file readers and image augmentation.

``imageDatastore``, ``fileDatastore``, ``arrayDatastore``, ``combine``, ``transform``,
``augmentedImageDatastore``, ``randomPatchExtractionDatastore``; the datastore functions
(``read``, ``readall``, ``hasdata``, ``reset``, ``preview``, ``shuffle``, ``subset``,
``partition``, ``numpartitions``, ``splitEachLabel``, ``countEachLabel``); readers
(``niftiread``, ``niftiinfo``) and augmentation (``imageDataAugmenter``, ``augment``,
``randomAffine3d``, ``imwarp``). See docs/data.md.
"""
from . import arrays, augmentation, augmented, combined, datastore, files, labels, patches, readers

__all__ = (files.__all__ + arrays.__all__ + combined.__all__ + augmented.__all__
           + patches.__all__ + datastore.__all__ + labels.__all__ + readers.__all__
           + augmentation.__all__)

from .arrays import *  # noqa: F401,F403
from .augmentation import *  # noqa: F401,F403
from .augmented import *  # noqa: F401,F403
from .combined import *  # noqa: F401,F403
from .datastore import *  # noqa: F401,F403
from .datastore import Datastore  # noqa: F401
from .files import *  # noqa: F401,F403
from .labels import *  # noqa: F401,F403
from .patches import *  # noqa: F401,F403
from .readers import *  # noqa: F401,F403

