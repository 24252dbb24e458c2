#!/usr/bin/env python3
"""Which allocations keep a process's freed heap resident: live allocations made after a mark, by page.

After a load, glibc can hand back only whole free pages; a page that still holds one live allocation
stays resident. Given heaptrack's raw allocation stream (its preload library writing to a file, no
heaptrack_interpret) and a byte offset into it taken when the load began, this replays the stream,
keeps what is still allocated at its end, and counts the 4 KiB pages that allocations made after the
mark touch and no earlier live allocation does: the pages the load left pinned. Each page is shared
among the allocations on it; the report groups them by call stack (resolved with addr2line) and
lists the biggest first. Found issue 12's three causes of RSS after a load (bench/RESULTS.md).

Capture (chorusd under the preload; G_SLICE set so it does not re-execute itself):
  G_SLICE=always-malloc LD_PRELOAD=/usr/lib/heaptrack/libheaptrack_preload.so \\
      DUMP_HEAPTRACK_OUTPUT=/tmp/raw.txt build/bin/chorusd ...
  mark=$(stat -c %s /tmp/raw.txt)   # when the load starts
  ... the load, the idle trim ..., then kill -9 the server (so its shutdown frees nothing)
  python3 bench/heap_pins.py /tmp/raw.txt $mark --exe build/bin/chorusd [--top 12]
Measures only.
"""

import argparse
import bisect
import collections
import subprocess

PAGE = 4096
# Frames that only say "an allocation happened": skipped when a stack is printed.
ALLOCATOR_FRAMES = ("heaptrack", "malloc", "operator new", "g_malloc", "g_slice", "__gnu_cxx", "std::__new")


class Stream:
    """The replayed raw stream: module map, trace tree, and what is live at its end."""

    def __init__(self, path, mark, exe):
        self.modules = []  # (start, end, path, load address)
        self.traces = [None]  # index -> (instruction pointer, parent index); 0 is the root
        self.live = {}  # pointer -> (size, trace, made after the mark)
        offset = 0
        with open(path, "rb") as stream:
            for line in stream:
                after_mark = offset >= mark
                offset += len(line)
                self._read(line, after_mark, exe)
        self.modules.sort()

    def _read(self, line, after_mark, exe):
        kind = line[:1]
        if kind == b"+":  # + size trace pointer (hex)
            _, size, trace, pointer = line.split()
            self.live[int(pointer, 16)] = (int(size, 16), int(trace, 16), after_mark)
        elif kind == b"-":
            self.live.pop(int(line.split()[1], 16), None)
        elif kind == b"t":  # t ip parent: defines the next trace index
            _, ip, parent = line.split()
            self.traces.append((int(ip, 16), int(parent, 16)))
        elif kind == b"m":  # m <len> path load-address (segment-offset segment-length)...
            fields = line.decode(errors="replace").split()
            if len(fields) < 5 or fields[2] == "-":
                return
            module = exe if fields[2] == "x" else fields[2]  # "x": the executable itself
            base = int(fields[3], 16)
            segments = fields[4:]
            for i in range(0, len(segments) - 1, 2):
                start = base + int(segments[i], 16)
                self.modules.append((start, start + int(segments[i + 1], 16), module, base))

    def frames(self, trace, depth):
        out = []
        while trace and len(out) < depth:
            ip, trace = self.traces[trace]
            out.append(ip)
        return out


class Symbols:
    def __init__(self, modules):
        self.modules = modules
        self.cache = {}

    def name(self, ip):
        if ip not in self.cache:
            self.cache[ip] = self._resolve(ip)
        return self.cache[ip]

    def _resolve(self, ip):
        i = bisect.bisect_right(self.modules, (ip, 1 << 64)) - 1
        if i < 0 or not self.modules[i][0] <= ip < self.modules[i][1]:
            return hex(ip)
        _, _, module, base = self.modules[i]
        try:  # ip - 1: the call instruction, not the return address
            found = subprocess.run(["addr2line", "-f", "-C", "-e", module, hex(ip - base - 1)],
                                   capture_output=True, text=True, timeout=30, check=False)
            function = found.stdout.split("\n")[0]
        except (OSError, subprocess.TimeoutExpired):
            function = hex(ip)
        return f"{function[:120]} [{module.rsplit('/', 1)[-1]}]"


def pinned_pages(live):
    """Pages touched by after-mark allocations and by no earlier one: {page: [(size, trace)]}."""
    before, after = set(), collections.defaultdict(list)
    for pointer, (size, trace, after_mark) in live.items():
        for page in range(pointer // PAGE, (pointer + max(size, 1) - 1) // PAGE + 1):
            if after_mark:
                after[page].append((size, trace))
            else:
                before.add(page)
    return {page: owners for page, owners in after.items() if page not in before}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", help="heaptrack's raw stream (DUMP_HEAPTRACK_OUTPUT)")
    parser.add_argument("mark", type=int, help="byte offset into it where the load began")
    parser.add_argument("--exe", required=True, help="the traced executable (the stream calls it 'x')")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--depth", type=int, default=8, help="frames that tell two stacks apart")
    args = parser.parse_args()

    stream = Stream(args.raw, args.mark, args.exe)
    pinned = pinned_pages(stream.live)
    made_after = [(size, trace) for size, trace, after_mark in stream.live.values() if after_mark]
    print(f"live at the end: {len(stream.live)} allocations; made after the mark: {len(made_after)} "
          f"({sum(size for size, _ in made_after) / 1e6:.2f} MB)")
    print(f"pages they pin that nothing earlier does: {len(pinned)} ({len(pinned) * PAGE / 2**20:.1f} MiB)")

    by_stack = collections.defaultdict(lambda: {"pages": 0.0, "count": 0, "bytes": 0, "trace": 0})
    for owners in pinned.values():
        for _, trace in owners:
            by_stack[tuple(stream.frames(trace, args.depth))]["pages"] += 1.0 / len(owners)
    for size, trace in made_after:
        group = by_stack[tuple(stream.frames(trace, args.depth))]
        group["count"] += 1
        group["bytes"] += size
        group["trace"] = trace
    symbols = Symbols(stream.modules)
    for group in sorted(by_stack.values(), key=lambda g: -g["pages"])[:args.top]:
        print(f"\n{group['pages']:8.1f} pages ({group['pages'] * PAGE / 2**20:.2f} MiB) pinned by "
              f"{group['count']} allocations of {group['bytes'] / 1024:.1f} KiB:")
        for ip in stream.frames(group["trace"], 16):
            name = symbols.name(ip)
            if not any(skip in name for skip in ALLOCATOR_FRAMES):
                print("     ", name)


if __name__ == "__main__":
    main()
