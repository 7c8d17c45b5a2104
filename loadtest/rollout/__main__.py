"""python -m loadtest.rollout: see loadtest/rollout/cli.py."""

import sys

from loadtest.rollout.cli import main

sys.exit(main())
