"""Homework: derive student notebooks from TA sources, grade submissions, publish, scan for leaks.

Usage: `python -m tools.homework derive|grade|publish|scan ...` (see homework/README.md).
"""
