import sys

from sae_interp.core.cli import eval_main
from sae_interp.evals.intruder.main import DEFINITION

if __name__ == "__main__":
    sys.exit(eval_main(DEFINITION, sys.argv[1:]))
