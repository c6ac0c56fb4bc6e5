import sys

from n2a_gitops.cli import main

sys.exit(main())
