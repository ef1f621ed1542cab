"""MindLens: find the fragments of a text that try to manipulate the reader."""

__version__ = "0.1.0"
