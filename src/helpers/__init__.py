"""Shared code for the course book *Mathematical Foundations of Deep Neural Networks*.

Importing the package has no side effects: seeding (`helpers.seed`) and the plot
style (`helpers.plotting`) are explicit calls. Each module's docstring names the
lecture that derives what it contains.
"""

__version__ = "0.1.0"
