"""Exercises: the parts of a lab a student writes. ``expect`` holds what checks assert,
``checks`` runs a check, ``stub`` turns a reference solution into the student's version."""
