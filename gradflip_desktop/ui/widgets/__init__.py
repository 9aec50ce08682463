"""The window's widgets: image views, the probability plot, the side panel, the Load model dialog."""
