import sys

from sae_interp.evals.sparse_probing.main import DEFINITION
from sae_interp.framework.cli import eval_main

if __name__ == "__main__":
    sys.exit(eval_main(DEFINITION, sys.argv[1:]))
