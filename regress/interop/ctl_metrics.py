# signerctl show metrics, read by an independent OpenMetrics parser
# (Debian's python3-prometheus-client), which refuses what the format
# does not allow.  Prints the samples asked for, one per line, as
# "NAME{LABEL=VALUE,...} VALUE" with the labels sorted and absent
# samples as "NAME{...} -"; also checks that every histogram's buckets
# are cumulative and end in +Inf equal to its _count.
#
#   ctl_metrics.py FILE 'NAME{LABEL=VALUE,...}'...
import sys

from prometheus_client.openmetrics.parser import \
    text_string_to_metric_families

text = open(sys.argv[1]).read()
samples = {}
for fam in text_string_to_metric_families(text):
    if fam.type == "histogram":
        series = {}
        for s in fam.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items()
                               if k != "le"))
            series.setdefault(key, {})[s.name, s.labels.get("le")] = s.value
        for key, vals in series.items():
            bk = sorted(((float(le), v) for (nm, le), v in vals.items()
                         if nm.endswith("_bucket")))
            if bk[-1][0] != float("inf"):
                sys.exit("FAIL: %s %r: no +Inf bucket" % (fam.name, key))
            if any(b[1] > c[1] for b, c in zip(bk, bk[1:])):
                sys.exit("FAIL: %s %r: buckets not cumulative" %
                         (fam.name, key))
            if bk[-1][1] != vals[fam.name + "_count", None]:
                sys.exit("FAIL: %s %r: +Inf is not _count" %
                         (fam.name, key))
    for s in fam.samples:
        lab = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        samples["%s{%s}" % (s.name, lab)] = s.value
for want in sys.argv[2:]:
    name, _, lab = want.rstrip("}").partition("{")
    lab = ",".join(sorted(x for x in lab.split(",") if x))
    key = "%s{%s}" % (name, lab)
    v = samples.get(key)
    print(key, "-" if v is None else ("%g" % v))
