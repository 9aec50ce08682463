"""``python -m gradflip_desktop``: the same as the ``gradflip`` command."""

from gradflip_desktop.app import main

raise SystemExit(main())
