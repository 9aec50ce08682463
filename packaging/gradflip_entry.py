"""Entry script of the packaged app (PyInstaller): the same ``main`` as the ``gradflip`` GUI script.

``gradflip`` opens the window; ``gradflip --self-test``, ``--version``, ``classify`` and ``explain`` run
the command-line tool (see gradflip_desktop/app.py).
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # no-op unless a frozen child process is being started (Windows)
    from gradflip_desktop.app import main

    sys.exit(main())
