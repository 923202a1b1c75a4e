"""Operator commands run from the repository root (``python -m tools.<name>``).

They use the shared layer's code as the functions do; the layer is put on the path here.
"""

import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "shared")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
