"""``python -m mmreid_unsup.datasets.synthetic``."""
from .cli import main

main()
