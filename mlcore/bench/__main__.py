"""``python -m mlcore.bench <case> [options]``: one benchmark case; alone, the list of cases.

The cases are the modules in ``CASE_MODULES``, each holding a ``CASE`` (``summary`` and
``main(argv, name)``); a case's name on the command line is its module's, with dashes.
"""

from __future__ import annotations

import importlib
import sys

CASE_MODULES = ("fast_style", "pix2pix", "ugatit", "stylegan2", "memory", "infer")
CASE_MODULES += ("edges",)  # border stripes of the ml5.js styles, exact vs reflect (issue 13)
CASES = {module.replace("_", "-"): f"mlcore.bench.{module}" for module in CASE_MODULES}


def case(name: str):
    return importlib.import_module(CASES[name]).CASE


def usage() -> str:
    width = max(map(len, CASES))
    lines = ["usage: python -m mlcore.bench <case> [options]   (--help after a case for its options)", "", "cases:"]
    lines += [f"  {name:<{width}}  {case(name).summary}" for name in CASES]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] not in CASES:
        print(f"python -m mlcore.bench: unknown case {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    return case(argv[0]).main(argv[1:], argv[0])


if __name__ == "__main__":
    sys.exit(main())
