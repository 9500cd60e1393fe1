"""``python -m signproxy``."""

import sys

from signproxy.cli import main

sys.exit(main())
