#!/usr/bin/env python3
"""Compare the nDPI risks `segscope capture` stores per graph edge with
nDPI 4.2's own ndpiReader results (SHARED/data/pcaps/ndpi/expected/*.out,
the "[Risk: ** A **** B **]" of each flow line).

Each capture is read into a fresh database (segscope capture, with
--ndpi-dir SHARED/data/pcaps/ndpi/ndpi-4.2-example as ndpiReader had, and
timeouts long enough never to split a flow, as tests/compare_ndpi.py
does), then its edges are listed (segscope edges --format json: "risks"
is nDPI's names separated by ';').

Matching: an edge is (client, server, IP protocol, server port, app); a
graph edge keeps no client port.  Edges are grouped by (protocol, client,
server, server port) - the app is left out, since a port can carry flows
nDPI named differently.  An ndpiReader flow a:pa <-> b:pb (parsed by
tests/compare_ndpi.py) belongs to the group (proto, a, b, pb) or else
(proto, b, a, pa) (TCP and UDP; other protocols: any group of that
address pair).  A group agrees when the union of its edges' risks equals
the union of its ndpiReader flows' risks.  ndpiReader flows with no group
(tunnels ndpiReader does not decode...) are counted, not compared.

Prints one DIFF line per differing group and totals; exit 0 when every
capture ran, at least --min-agreement percent of the groups with a risk
(on either side) agree, and at least --min-names percent of the
(group, risk name) pairs of each side are on the other (recall and
precision against ndpiReader); 1 otherwise, 77 when the corpus is absent.  --captures-with-risks limits
the run to captures whose expected output has a risk.
"""
import argparse
import collections
import concurrent.futures
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_ndpi  # noqa: E402  (the ndpiReader parser)

def run(segscope, ndpi_dir, capture, tmp):
    db = os.path.join(tmp, "db")
    cmd = ([segscope, "capture", "-q", "--db", db, "--flush-interval", "0"] +
           compare_ndpi.ndpi_like(ndpi_dir) + ["-r", capture])
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if p.returncode not in (0, 3):
        return p.returncode, p.stderr.decode("utf-8", "replace").strip(), None
    q = subprocess.run([segscope, "edges", "--db", db, "--format", "json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if q.returncode != 0:
        return q.returncode, q.stderr.decode("utf-8", "replace").strip(), None
    edges = [json.loads(l) for l in q.stdout.decode("utf-8").splitlines() if l.strip()]
    return p.returncode, "", edges


def compare(name, exp, edges):
    groups = collections.defaultdict(lambda: [set(), set(), 0])   # key -> [segscope, ndpiReader, flows]
    by_pair = collections.defaultdict(list)
    for e in edges:
        proto = compare_ndpi.SEG_PROTO.get(e["proto"])
        if proto is None:
            proto = int(e["proto"])
        c = ipaddress.ip_address(e["client"]).packed
        s = ipaddress.ip_address(e["server"]).packed
        key = (proto, c, s, int(e["port"]))
        groups[key][0].update(r for r in e["risks"].split(";") if r)
        by_pair[(proto, c, s)].append(key)
    cnt = collections.Counter()
    for key, _app, _pk, text, risks in exp:
        cnt["ndpi flows"] += 1
        if key is None:
            cnt["unmatched"] += 1
            continue
        proto, _vlan, (a, pa), (b, pb) = key
        g = None
        if proto in (6, 17):
            for k in ((proto, a, b, pb), (proto, b, a, pa)):
                if k in groups:
                    g = k
                    break
        else:
            for ks in (by_pair.get((proto, a, b)), by_pair.get((proto, b, a))):
                if ks:
                    g = sorted(ks)[0]
                    break
        if g is None:
            cnt["unmatched"] += 1
            continue
        groups[g][1].update(risks)
        groups[g][2] += 1
    diffs = []
    for key in sorted(groups):
        seg, ref, nflows = groups[key]
        cnt["groups"] += 1
        cnt["groups with risks"] += bool(seg or ref)
        cnt["risk names (ndpiReader)"] += len(ref)
        cnt["risk names (segscope)"] += len(seg)
        cnt["risk names agreeing"] += len(seg & ref)
        if seg == ref:
            cnt["agree"] += 1
            cnt["agree with risks"] += bool(ref)
            continue
        proto, c, s, port = key
        diffs.append("%s: %s %s -> %s:%d (%d ndpiReader flows): segscope only %s, ndpiReader only %s"
                     % (name, proto, ipaddress.ip_address(c), ipaddress.ip_address(s), port, nflows,
                        sorted(seg - ref), sorted(ref - seg)))
    return cnt, diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True)
    ap.add_argument("--segscope", required=True)
    ap.add_argument("--min-agreement", type=float, default=95.0)
    ap.add_argument("--min-names", type=float, default=95.0)
    ap.add_argument("--captures-with-risks", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("captures", nargs="*", help="only these capture names")
    args = ap.parse_args()

    found = compare_ndpi.find_captures(args.shared, args.captures)
    if found is None:
        print("SKIP: nDPI captures or expected outputs not found under %s/data/pcaps/ndpi" % args.shared)
        return 77
    ndpi_dir, caps = found[0], []
    for n, p, e in found[1]:
        exp = compare_ndpi.parse_out(e)
        if args.captures_with_risks and not any(f[4] for f in exp):
            continue
        caps.append((n, p, exp))
    if not caps:
        print("SKIP: no capture with an expected output")
        return 77

    n_pass = n_fail = 0
    total = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="segscope-risks.") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = []
        for i, (n, p, exp) in enumerate(caps):
            d = os.path.join(tmp, str(i))
            os.mkdir(d)
            futs.append((n, exp, ex.submit(run, args.segscope, ndpi_dir, p, d)))
        for n, exp, fut in futs:
            rc, err, edges = fut.result()
            if edges is None:
                n_fail += 1
                print("FAIL: %s: segscope exit %d: %s" % (n, rc, err[:200]))
                continue
            n_pass += 1
            cnt, diffs = compare(n, exp, edges)
            total.update(cnt)
            for d in diffs:
                print("DIFF: " + d)

    g, agree = total["groups"], total["agree"]
    gr, agree_r = total["groups with risks"], total["agree with risks"]
    ref, seg, both = (total["risk names (ndpiReader)"], total["risk names (segscope)"],
                      total["risk names agreeing"])
    print("captures %d, ndpiReader flows %d (%d without an edge group), edge groups %d, with risks %d"
          % (len(caps), total["ndpi flows"], total["unmatched"], g, gr))
    print("edge groups agreeing: %d/%d (%.2f%%) overall, %d/%d with risks"
          % (agree, g, 100.0 * agree / g if g else 0.0, agree_r, gr))
    print("risk names (per edge group): ndpiReader %d, segscope %d, on both %d" % (ref, seg, both))
    pct = 100.0 * agree_r / gr if gr else 0.0
    ok = gr > 0 and pct >= args.min_agreement
    print("%s: risks agree on %.2f%% of the edge groups with risks (%d/%d), required %.2f%%"
          % ("PASS" if ok else "FAIL", pct, agree_r, gr, args.min_agreement))
    n_pass, n_fail = n_pass + ok, n_fail + (not ok)
    for what, part, whole in (("ndpiReader's risk names segscope has (recall)", both, ref),
                              ("segscope's risk names ndpiReader has (precision)", both, seg)):
        pct = 100.0 * part / whole if whole else 0.0
        ok = whole > 0 and pct >= args.min_names
        print("%s: %s: %.2f%% (%d/%d), required %.2f%%"
              % ("PASS" if ok else "FAIL", what, pct, part, whole, args.min_names))
        n_pass, n_fail = n_pass + ok, n_fail + (not ok)
    print("%d passed, %d failed" % (n_pass, n_fail))
    return 0 if n_fail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
