"""Renderers: draw a Report; never compute."""
