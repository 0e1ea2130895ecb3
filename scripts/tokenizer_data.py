"""Install OpenAI's BPE vocabularies once, from the npm registry, where tiktoken looks for them offline.

tiktoken downloads its vocabularies at run time from a blob store; nothing here may do that. The npm package
js-tiktoken ships the same vocabularies in a compact form. This fetches it from the registry at setup time,
checks the tarball against the registry's integrity hash, rewrites each vocabulary in tiktoken's own format,
checks the result against the sha256 tiktoken itself expects, and stores it under the name tiktoken's cache
uses (sha1 of the blob URL) in the directory `copilot.tokens` points TIKTOKEN_CACHE_DIR at.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request

from copilot.tokens import cache_name, tokenizer_dir

PACKAGE = "https://registry.npmjs.org/js-tiktoken/-/js-tiktoken-1.0.21.tgz"
INTEGRITY = "biOj/6M5qdgx5TKjDnFT1ymSpM5tbd3ylwDtrQvFQSu0Z7bBYko2dF+W/aUkXUPuk6IVpRxk/3Q2sHOzGlS36g=="  # sha512
SHA256 = {  # as tiktoken_ext.openai_public expects them
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}


def tiktoken_format(ranks_module: str) -> bytes:
    """js-tiktoken's compact ranks (`! <first rank> <b64> <b64> ...` a line) as `<b64> <rank>` lines."""
    data = json.loads(ranks_module.removeprefix("export default ").rstrip().rstrip(";"))
    lines = []
    for line in filter(None, data["bpe_ranks"].split("\n")):
        _, first, *tokens = line.split(" ")
        lines += [f"{token} {int(first) + i}" for i, token in enumerate(tokens)]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    out = tokenizer_dir()
    if all((out / cache_name(name)).exists() for name in SHA256):
        return
    with urllib.request.urlopen(PACKAGE, timeout=120) as resp:  # noqa: S310 - the npm registry, pinned
        blob = resp.read()
    if base64.b64encode(hashlib.sha512(blob).digest()).decode() != INTEGRITY:
        sys.exit(f"{PACKAGE} does not match its published integrity hash")
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        for name, expected in SHA256.items():
            member = tar.extractfile(f"package/dist/ranks/{name}.js")
            assert member is not None
            data = tiktoken_format(member.read().decode())
            if hashlib.sha256(data).hexdigest() != expected:
                sys.exit(f"{name} from {PACKAGE} is not the vocabulary tiktoken expects")
            partial = out / f"{cache_name(name)}.part"
            partial.write_bytes(data)
            partial.rename(out / cache_name(name))  # complete or absent
    print(f"tokenizer vocabularies in {out}")


if __name__ == "__main__":
    main()
