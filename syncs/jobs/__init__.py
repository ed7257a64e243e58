"""The jobs: one spec per job (what it moves and how), declared in syncs/catalog.py and found by name in the
registry. The engine asks a job's spec what to do; it never asks which job it is running."""
