import sys

from qnet.cli import main

sys.exit(main())
