"""What pix2pix_k3 caches on this machine: `python -m pix2pix_k3.cache list|check|clear`.

- `list`: each pair cache (`pix2pix_k3.data.cache`): its pairs, size, source folder and
  last use, the total against `$PIX2PIX_K3_PAIR_CACHE_LIMIT`, and JAX's compiled programs
  (`pix2pix_k3.compile_cache`);
- `check`: reads every pair of every pair cache against its checksums; a damaged one is
  left for the next run to rebuild;
- `clear`: removes the pair caches (`--compiled`: JAX's compiled programs too). Anything
  removed is made again when needed: the next run decodes, or compiles, once more.
"""

import datetime
import os
import shutil
import sys

from pix2pix_k3 import cli, compile_cache
from pix2pix_k3.data import cache as pairs


def main(argv=None):
    args = cli.cache_parser().parse_args(argv)
    root = pairs.folder()
    if root is None:
        print(f"pair caches are off ({pairs.VARIABLE}=off).")
    {"list": show, "check": check, "clear": clear}[args.command](root, args)


def show(root, args):
    found = pairs.caches(root) if root else []
    total = 0
    for path in found:
        size = pairs.folder_bytes(path)
        total += size
        manifest = pairs.PairCache(path).manifest()
        if manifest is None:
            print(f"{path}: damaged, {size / 1e6:.0f} MB (rebuilt or removed when next needed)")
            continue
        count = len(manifest["checksums"]["inputs"])
        source = os.path.commonpath([files[0] for files in manifest["sources"]])
        used = datetime.datetime.fromtimestamp(pairs.last_use(path)).strftime("%Y-%m-%d %H:%M")
        print(f"{path}: {count} pairs of {source}, {size / 1e6:.0f} MB, last used {used}")
    if root:
        print(
            f"pair caches: {len(found)} in {root}, {total / 1e6:.0f} MB of "
            f"{pairs.limit() / 1e6:.0f} MB allowed ({pairs.LIMIT_VARIABLE})"
        )
    compiled = compile_cache.folder()
    if compiled and compiled.is_dir():
        print(f"JAX's compiled programs: {compiled}, {pairs.folder_bytes(compiled) / 1e6:.0f} MB")


def check(root, args):
    damaged = 0
    for path in pairs.caches(root) if root else []:
        cache = pairs.PairCache(path)
        problem = "no manifest" if cache.manifest() is None else cache.cut_short()
        problem = problem or cache.check()
        if problem:
            damaged += 1
            cache.condemn(problem)
        print(f"{path}: {problem or 'ok'}")
    if damaged:
        raise SystemExit(1)


def clear(root, args):
    for path in pairs.caches(root) if root else []:
        shutil.rmtree(path, ignore_errors=True)
        print(f"removed {path}")
    compiled = compile_cache.folder()
    if args.compiled and compiled and compiled.is_dir():
        shutil.rmtree(compiled, ignore_errors=True)
        print(f"removed {compiled}")


if __name__ == "__main__":
    main(sys.argv[1:])
