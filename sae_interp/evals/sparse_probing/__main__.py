import sys

from sae_interp.evals.sparse_probing.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
