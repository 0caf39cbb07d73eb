"""`python -m zof_async._cli`: the same as the `zof` command."""

import sys

from . import main

sys.exit(main())
