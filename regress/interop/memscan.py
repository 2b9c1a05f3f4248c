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


CHUNK = 64 << 20
HUGE = 64 << 30


def main():
    pid = int(sys.argv[1])
    marker = bytes.fromhex(sys.argv[2])
    if len(marker) < 8:
        sys.exit("marker too short to mean anything")
    found = []
    scanned = 0
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for lo, hi, path in regions(pid):
            # Sanitizer shadow and allocator reservations: terabytes of
            # pages never touched, nothing a program put there.
            if hi - lo > HUGE:
                continue
            # In pieces that overlap by a marker less one byte.
            pos = lo
            while pos < hi:
                end = min(hi, pos + CHUNK)
                try:
                    mem.seek(pos)
                    chunk = mem.read(end - pos)
                except (OSError, ValueError, OverflowError):
                    break
                scanned += len(chunk)
                for m in re.finditer(re.escape(marker), chunk):
                    found.append("%#x %s" % (pos + m.start(),
                                             path or "[anon]"))
                if end == hi:
                    break
                pos = end - (len(marker) - 1)
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
