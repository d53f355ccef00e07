#!/usr/bin/env python3
"""Compare the application protocol `segscope flows` gives each flow with
nDPI 4.2's own ndpiReader results (SHARED/data/pcaps/ndpi/expected/*.out).

The expected outputs were made by nDPI's test script:

    ndpiReader -p protos.txt -c categories.txt -r risky_domains.txt \
        -j ja3_fingerprints.csv -S sha1_fingerprints.csv -q -t -i CAPTURE -w OUT -v 2

so segscope runs with --ndpi-dir SHARED/data/pcaps/ndpi/ndpi-4.2-example
(the same five files).  ndpiReader keeps a flow for the whole capture, so
segscope runs with idle and active timeouts long enough never to split one.

Matching: an ndpiReader flow line
    <n> TCP 1.2.3.4:1 <-> 5.6.7.8:2 [proto: 91.126/TLS.Google]...
is matched with the segscope records of the same IP protocol and the same
unordered pair of endpoints (addresses compared in binary form; ports only
for TCP and UDP, since ndpiReader prints port 0 for ICMP and others while
segscope keys ICMP echo by its identifier) and the VLAN ndpiReader prints
("[VLAN: 505]": the innermost tag of the frame; segscope's vlan column
holds the whole stack).  When several records share a key (a port reused
after a close, which segscope splits), a record with the same protocol is
preferred.  A tunnel prefix in ndpiReader's protocol
("GTP:91/TLS") is dropped: both tools name the innermost flow.

The protocol string ("TLS.Google", as nDPI's ndpi_protocol2name() writes
it) must be equal.  Agreement = equal / matched ndpiReader flows; the test
asserts it is at least --min-agreement (default 99%) and that at least
--min-matched of ndpiReader's flows were found (so a broken run cannot
pass by matching nothing).  Each differing flow is printed with a reason:

  not matched      no segscope record with that key (ndpiReader decodes
                   fewer tunnels, or keeps flows segscope does not make)
  flow split       segscope made several records of this key
  packets differ   same key, but the packet counts differ (different flow
                   boundaries, e.g. fragments or decoding), so nDPI saw a
                   different packet sequence
  same packets     same key and packet counts: the detection itself
                   differed (packet budget, or nDPI state carried across
                   flows such as its LRU caches)

Exit status: 0 when the assertions hold, 1 otherwise, 77 when the corpus
is absent.  The closing line counts assertions: one per capture (segscope
ran and its output was read) plus the two global ones.
"""
import argparse
import collections
import concurrent.futures
import glob
import ipaddress
import json
import os
import re
import subprocess
import sys

FLOW = re.compile(r"^\t\d+\t(\S+) (\S+) (?:<->|->) (\S+) (?:\[VLAN: (\d+)\])?\[proto: ([^\]]*)\]")
PKTS = re.compile(r"\[(\d+) pkts/\d+ bytes (?:<->|->) (\d+) pkts/\d+ bytes\]")
RISK = re.compile(r"\[Risk: ((?:\*\* [^\]]*? \*\*)+)\]")
PROTO_NUM = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPV6": 58, "IGMP": 2, "VRRP": 112,
             "GRE": 47, "ESP": 50, "AH": 51, "OSPF": 89, "PIM": 103, "SCTP": 132}
SEG_PROTO = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
             "icmpv6": 58, "ospf": 89, "pim": 103, "vrrp": 112, "sctp": 132}
BIG = "1000000000"


def endpoint(s):
    if s.startswith("["):
        a, p = s[1:].rsplit("]:", 1)
    else:
        a, p = s.rsplit(":", 1)
    return ipaddress.ip_address(a).packed, int(p)


def make_key(proto, vlan, ea, eb):
    if proto not in (6, 17):
        ea, eb = (ea[0], 0), (eb[0], 0)
    return (proto, vlan, min(ea, eb), max(ea, eb))


def risk_names(line):
    """The risk names of an ndpiReader flow line ("[Risk: ** A **** B **]" -> {"A", "B"})."""
    m = RISK.search(line)
    if not m:
        return set()
    return {r.strip() for r in m.group(1).split("**") if r.strip()}


def parse_out(path):
    """ndpiReader flow lines: [(key, app, (pkts_a, pkts_b), text, risk names)]."""
    flows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = FLOW.match(line)
            if not m:
                continue
            p = m.group(1)
            proto = PROTO_NUM.get(p)
            if proto is None:
                if not p.isdigit():
                    continue
                proto = int(p)
            try:
                ea, eb = endpoint(m.group(2)), endpoint(m.group(3))
            except ValueError:      # nDPI printed an address that is not one (fuzzed files)
                flows.append((None, m.group(5), None, line.strip()[:160], risk_names(line)))
                continue
            vlan = int(m.group(4) or 0)
            app = m.group(5).split("/", 1)[-1] if "/" in m.group(5) else m.group(5)
            c = PKTS.search(line)
            pk = (int(c.group(1)), int(c.group(2))) if c else None
            flows.append((make_key(proto, vlan, ea, eb), app, pk, line.strip()[:160], risk_names(line)))
    return flows


def ndpi_like(ndpi_dir):
    """segscope options that make it see flows as ndpiReader does: its
    configuration files, and timeouts long enough never to split a flow."""
    return ["--ndpi-dir", ndpi_dir, "--tcp-timeout", BIG, "--tcp-closed-timeout", BIG,
            "--udp-timeout", BIG, "--other-timeout", BIG, "--active-timeout", "0"]


def find_captures(shared, only):
    """(ndpi_dir, [(name, capture path, expected output path)]) of the shared
    nDPI captures that have an expected output (only those named in `only`,
    if any), or None when the corpus is absent."""
    base = os.path.join(shared, "data", "pcaps", "ndpi")
    ndpi_dir = os.path.join(base, "ndpi-4.2-example")
    if not os.path.isdir(os.path.join(base, "expected")) or not os.path.isdir(ndpi_dir):
        return None
    caps = []
    for p in sorted(glob.glob(os.path.join(base, "*.pcap*"))):
        n = os.path.basename(p)
        e = os.path.join(base, "expected", n + ".out")
        if os.path.isfile(e) and (not only or n in only):
            caps.append((n, p, e))
    return ndpi_dir, caps


def run_segscope(segscope, ndpi_dir, capture):
    cmd = [segscope, "flows", "-q", "--format", "json"] + ndpi_like(ndpi_dir) + ["-r", capture]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    recs = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        o = json.loads(line)
        proto = SEG_PROTO.get(o["proto"])
        if proto is None:
            proto = int(o["proto"])
        ea = (ipaddress.ip_address(o["addr_a"]).packed, int(o["port_a"]))
        eb = (ipaddress.ip_address(o["addr_b"]).packed, int(o["port_b"]))
        # ndpiReader keys a flow by the last (innermost) VLAN tag of the frame
        vlan = int(o["vlan"].split(".")[-1]) if o.get("vlan") else 0
        recs.append((make_key(proto, vlan, ea, eb), o.get("app") or "Unknown",
                     (int(o["pkts_a_to_b"]), int(o["pkts_b_to_a"]))))
    return p.returncode, p.stderr.decode("utf-8", "replace").strip(), recs


def compare(name, exp, recs):
    """Returns (counts, [difference lines])."""
    by_key = collections.defaultdict(list)
    for r in recs:
        by_key[r[0]].append(r)
    used = set()
    cnt = collections.Counter()
    diffs = []
    for key, app, pk, text, _ in exp:
        cands = [r for r in by_key.get(key, []) if id(r) not in used]
        cnt["ndpi"] += 1
        if not cands:
            cnt["not matched"] += 1
            diffs.append("%s: not matched: %s" % (name, text))
            continue
        cnt["matched"] += 1
        same = [r for r in cands if r[1] == app]
        r = same[0] if same else cands[0]
        used.add(id(r))
        if r[1] == app:
            cnt["agree"] += 1
            continue
        if len(by_key[key]) > 1:
            why = "flow split"
        elif pk and sorted(pk) != sorted(r[2]):
            why = "packets differ"
        else:
            why = "same packets"
        cnt[why] += 1
        diffs.append("%s: %s: segscope %s, ndpiReader %s: %s" % (name, why, r[1], app, text))
    return cnt, diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True)
    ap.add_argument("--segscope", required=True)
    ap.add_argument("--min-agreement", type=float, default=99.0)
    ap.add_argument("--min-matched", type=float, default=90.0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("captures", nargs="*", help="only these capture names")
    args = ap.parse_args()

    found = find_captures(args.shared, args.captures)
    if found is None:
        print("SKIP: nDPI captures or expected outputs not found under %s/data/pcaps/ndpi" % args.shared)
        return 77
    ndpi_dir, caps = found
    if not caps:
        print("SKIP: no capture with an expected output")
        return 77

    n_pass = n_fail = 0
    total = collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = [(n, e, ex.submit(run_segscope, args.segscope, ndpi_dir, p)) for n, p, e in caps]
        for n, e, fut in futs:
            rc, err, recs = fut.result()
            # exit 3: malformed input (fuzzed files); the flows read before it still count
            if rc not in (0, 3):
                n_fail += 1
                print("FAIL: %s: segscope exit %d: %s" % (n, rc, err[:200]))
                continue
            n_pass += 1
            cnt, diffs = compare(n, parse_out(e), recs)
            total.update(cnt)
            for d in diffs:
                print("DIFF: " + d)

    matched = total["matched"]
    agree = total["agree"]
    pct = 100.0 * agree / matched if matched else 0.0
    mpct = 100.0 * matched / total["ndpi"] if total["ndpi"] else 0.0
    print("captures %d, ndpiReader flows %d, matched %d (%.2f%%), agreeing %d, differing %d"
          % (len(caps), total["ndpi"], matched, mpct, agree, matched - agree))
    print("differences by reason: " + ", ".join(
        "%s %d" % (k, total[k]) for k in ("not matched", "flow split", "packets differ", "same packets")))
    ok = pct >= args.min_agreement
    print("%s: agreement %.2f%% (%d/%d), required %.2f%%"
          % ("PASS" if ok else "FAIL", pct, agree, matched, args.min_agreement))
    n_pass, n_fail = n_pass + ok, n_fail + (not ok)
    ok = mpct >= args.min_matched
    print("%s: matched %.2f%% of ndpiReader's flows, required %.2f%%"
          % ("PASS" if ok else "FAIL", mpct, args.min_matched))
    n_pass, n_fail = n_pass + ok, n_fail + (not ok)
    print("%d passed, %d failed" % (n_pass, n_fail))
    return 0 if n_fail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
