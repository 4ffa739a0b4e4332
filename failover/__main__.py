"""`python -m failover --config FILE` runs the controller (same as `gameday failover run`)."""

import sys

from failover.cli import main

sys.exit(main())
