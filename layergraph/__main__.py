"""python -m layergraph  ->  the command line (demo, summary, bench)."""
from .cli import main

raise SystemExit(main())
