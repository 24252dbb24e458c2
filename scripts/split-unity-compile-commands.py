#!/usr/bin/env python3
"""Write a compile database with one entry per source from a unity build's database.

A unity build (CMAKE_UNITY_BUILD, how the Makefile configures its trees) lists in compile_commands.json
only the generated batch files (Unity/unity_N_cxx.cxx), each of which #includes a few sources. clang-tidy
checks one source at a time and needs that source's own command: it is the batch's command with the batch
file replaced by the source (the same flags, defines and precompiled header). Entries that are not
batches (sources kept out of them with SKIP_UNITY_BUILD_INCLUSION) are copied as they are.

usage: split-unity-compile-commands.py BUILD_DIR OUT_DIR   (writes OUT_DIR/compile_commands.json)
"""
import json
import pathlib
import re
import sys

INCLUDE = re.compile(r'^#include "(?P<path>[^"]+)"$')


def sources_of(batch: pathlib.Path) -> list[str]:
    return [m.group("path") for line in batch.read_text().splitlines() if (m := INCLUDE.match(line))]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    build_dir, out_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    entries = json.loads((build_dir / "compile_commands.json").read_text())
    split = []
    for entry in entries:
        batch = pathlib.Path(entry["file"])
        if batch.parent.name != "Unity" or not batch.name.startswith("unity_"):
            split.append(entry)
            continue
        if str(batch) not in entry["command"]:
            print(f"{batch}: its command does not name it", file=sys.stderr)
            return 1
        for source in sources_of(batch):
            split.append({**entry, "file": source, "command": entry["command"].replace(str(batch), source)})
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "compile_commands.json").write_text(json.dumps(split, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
