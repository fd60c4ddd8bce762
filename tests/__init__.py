"""Restyle's tests. This file makes ``tests`` a regular package, so that ``python -m tests.pgcluster``
and ``import tests.…`` find this folder even where an installed wheel ships a top-level ``tests``
package of its own (torch-fidelity 0.4.0 does): a regular package on the path wins over a folder
without ``__init__.py`` wherever that folder lies."""
