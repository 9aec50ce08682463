"""What the window does, one subject per module: images, models, runs, the Difference view, export.

Each controller owns its task slots (:mod:`gradflip_desktop.ui.worker`) and the functions those tasks
run in a worker thread; it updates the widgets and emits the window's signals."""
