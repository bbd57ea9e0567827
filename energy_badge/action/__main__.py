"""``python -m energy_badge.action STEP``: one step of the GitHub Action."""

import sys

from energy_badge.action.steps import main

sys.exit(main())
