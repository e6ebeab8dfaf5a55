import sys

from edge_gateway.cli.main import main

sys.exit(main())
