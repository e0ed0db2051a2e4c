from textmine.cli import main

raise SystemExit(main())
