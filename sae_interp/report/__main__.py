import sys

from sae_interp.report.cli import main

sys.exit(main())
