"""Reproducible measurements of rekey, side by side with the tools a user would otherwise pick.

``python -m benchmarks`` (``make bench``) runs every registered figure (see
:mod:`benchmarks.figures`) and writes ``benchmarks/results/latest.json`` and ``latest.md``
plus dated copies. A figure that cannot be measured yet is ``null`` and named in
``missing`` with the reason, never 0.
"""
