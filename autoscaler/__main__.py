"""`python -m autoscaler validate|simulate|run ...` (same as `gameday autoscaler ...`)."""

import sys

from autoscaler.cli import main

sys.exit(main())
