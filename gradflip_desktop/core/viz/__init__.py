"""Qt-free image processing for showing a change: filters (Gaussian blur), maps (importance, sign, key
pixels, colour maps) and the renderers the GUI and the report share. Import the submodules directly
(``from gradflip_desktop.core.viz import maps``)."""
