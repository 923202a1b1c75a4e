"""The Glue job package lives in glue/ (zipped into the job as ``cdc_merge``): import it as such."""

import sys
from pathlib import Path

GLUE_DIR = Path(__file__).resolve().parents[3] / "glue"
if str(GLUE_DIR) not in sys.path:
    sys.path.insert(0, str(GLUE_DIR))
