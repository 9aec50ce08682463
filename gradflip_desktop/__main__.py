from gradflip_desktop.app import main

raise SystemExit(main())
