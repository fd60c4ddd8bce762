"""Benchmarks of mlcore: ``python -m mlcore.bench <case> [options]`` (alone: the list of cases).

Every case runs on ``mlcore.bench.harness`` (a child process per measurement, the machine and
the inputs printed with the figures, the baseline beside them, ``--json``); each case module
(``fast_style``, ``pix2pix``, ``ugatit``, ``memory``) only says what it measures. Importing
this package imports no torch.
"""
