"""Print the dependency list of pyproject.toml, or its hash, for the cached virtualenv.

The project itself is not installed into that virtualenv (it runs from the work tree on PYTHONPATH), so
one cached environment serves every clone whose dependencies are the same.
"""

import hashlib
import json
import sys
import tomllib
from pathlib import Path

EXTRAS = ("ml", "dev")


def requirements() -> list[str]:
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return [*project["dependencies"], *(req for extra in EXTRAS for req in extras.get(extra, []))]


def main() -> None:
    reqs = requirements()
    if sys.argv[1:] == ["--key"]:
        blob = json.dumps([sys.version_info[:2], reqs]).encode()
        print(hashlib.sha256(blob).hexdigest()[:12])
    else:
        print("\n".join(reqs))


if __name__ == "__main__":
    main()
