# memscan.py PID HEXMARKER: does process PID hold the bytes HEXMARKER
# anywhere in its readable memory?  Exit 1 and say where if it does, 0 if
# not, 2 if the memory could not be read at all.  Run as root.  Used to
# check that secrets passing through a process are wiped once used.
import re
import sys


def regions(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            path = fields[5] if len(fields) > 5 else ""
            # Readable, and not a device or the vsyscall page.
            if fields[1][0] != "r" or path.startswith("/dev/") or \
                    path == "[vvar]" or path == "[vsyscall]":
                continue
            yield lo, hi, path


REGION_MAX = 1 << 32
CHUNK = 16 << 20


def main():
    pid = int(sys.argv[1])
    marker = bytes.fromhex(sys.argv[2])
    if len(marker) < 8:
        sys.exit("marker too short to mean anything")
    found = []
    scanned = 0
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for lo, hi, path in regions(pid):
            # A sanitizer's shadow memory: terabytes of reserved zeros.
            if hi - lo > REGION_MAX:
                continue
            # In pieces that overlap by the marker's length, so that a
            # copy across two pieces is still seen.
            at = lo
            while at < hi:
                n = min(CHUNK, hi - at)
                try:
                    mem.seek(at)
                    chunk = mem.read(min(n + len(marker) - 1, hi - at))
                except (OSError, ValueError, OverflowError):
                    break
                scanned += n
                for m in re.finditer(re.escape(marker), chunk):
                    if m.start() < n:
                        found.append("%#x %s" % (at + m.start(),
                                                 path or "[anon]"))
                at += n
    if scanned == 0:
        print("nothing readable in pid %d" % pid)
        sys.exit(2)
    if found:
        print("found %d cop%s: %s" % (len(found),
              "y" if len(found) == 1 else "ies", ", ".join(found[:8])))
        sys.exit(1)
    print("absent (%d bytes scanned)" % scanned)
    sys.exit(0)


main()
