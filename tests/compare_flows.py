#!/usr/bin/env python3
"""Compare `segscope flows` with the tshark conversation references.

For every capture in SHARED/data/pcaps/*/ that has reference/<name>.conv.csv,
run `segscope flows -r <capture> --format csv` and compare TCP and UDP
conversations: packets and bytes (wire length) each way, first and last
timestamp.  The counting rules of the references are in SHARED/data/README.md.

Where segscope counts differently on purpose, this script applies the
difference explicitly (and the README says why):

* Later IP fragments are counted in their flow by segscope and not by the
  reference: segscope's frag_pkts_*/frag_bytes_* are subtracted first.
* Tunnels are unwrapped to the innermost flow.  A UDP row on a tunnel port
  (VXLAN 4789, Geneve 6081, GTP-U 2152, Teredo 3544, CAPWAP 5246/5247,
  AYIYA 5072) is the outer header of frames segscope attributes to the
  inner flow (which may be ICMP, so the reference may lack it): such rows
  are not required (if segscope reports them, their counts must not exceed
  the reference).
* Reused 5-tuples are one reference row; segscope may split them into
  several records (FIN/RST then a new SYN, or timeouts): records with the
  same key are summed.
* Rows tshark marks with error_pkts > 0 (malformed) are compared but a
  mismatch there is reported as tolerated, not as a failure; so are rows
  where tshark clamped a wire length at INT32_MAX or read a timestamp as
  negative (fuzzed files), since segscope keeps the file's unsigned values.

Addresses are compared in binary form (inet_pton).  Exit status: 0 when
every strict row matches and segscope reports no TCP/UDP conversation the
reference lacks; 1 otherwise; 77 when the corpus is absent (skip).
"""
import argparse
import concurrent.futures
import csv
import io
import ipaddress
import os
import subprocess
import sys

INT32_MAX = 2147483647
TUNNEL_PORTS = {4789, 6081, 2152, 3544, 5246, 5247, 5072}


def addr(s):
    return ipaddress.ip_address(s).packed


def key_of(proto, vlan, a, pa, b, pb):
    ea, eb = (addr(a), int(pa)), (addr(b), int(pb))
    return (proto, vlan, min(ea, eb), max(ea, eb))


def load_ref(path):
    rows = {}
    max_layer = 1
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            max_layer = max(max_layer, int(r["ip_layer"]))
            k = key_of(r["proto"], r["vlan"], r["addr_a"], r["port_a"], r["addr_b"], r["port_b"])
            ea = (addr(r["addr_a"]), int(r["port_a"]))
            v = rows.get(k)
            rec = {
                "a": ea,
                "ab": (int(r["pkts_a_to_b"]), int(r["bytes_a_to_b"])),
                "ba": (int(r["pkts_b_to_a"]), int(r["bytes_b_to_a"])),
                "first": r["first_ts"], "last": r["last_ts"],
                "first_frame": int(r["first_frame"]),
                "err": int(r["error_pkts"]), "layer": int(r["ip_layer"]),
                "ports": (int(r["port_a"]), int(r["port_b"])),
                "text": "%s %s %s:%s <-> %s:%s" % (r["proto"], r["vlan"], r["addr_a"], r["port_a"], r["addr_b"], r["port_b"]),
            }
            if v is None:
                rows[k] = rec
            else:  # same key at another ip_layer: sum (rare)
                if rec["a"] != v["a"]:
                    rec["ab"], rec["ba"] = rec["ba"], rec["ab"]
                v["ab"] = (v["ab"][0] + rec["ab"][0], v["ab"][1] + rec["ab"][1])
                v["ba"] = (v["ba"][0] + rec["ba"][0], v["ba"][1] + rec["ba"][1])
                v["err"] += rec["err"]
                v["layer"] = max(v["layer"], rec["layer"])
    return rows, max_layer


def load_ours(text):
    flows = {}
    for r in csv.DictReader(io.StringIO(text)):
        if r["proto"] not in ("tcp", "udp"):
            continue
        k = key_of(r["proto"], r["vlan"], r["addr_a"], r["port_a"], r["addr_b"], r["port_b"])
        ea = (addr(r["addr_a"]), int(r["port_a"]))
        ab = (int(r["pkts_a_to_b"]) - int(r["frag_pkts_a_to_b"]),
              int(r["bytes_a_to_b"]) - int(r["frag_bytes_a_to_b"]))
        ba = (int(r["pkts_b_to_a"]) - int(r["frag_pkts_b_to_a"]),
              int(r["bytes_b_to_a"]) - int(r["frag_bytes_b_to_a"]))
        v = flows.get(k)
        if v is None:
            flows[k] = {"a": ea, "ab": ab, "ba": ba, "first": r["first_ts"], "last": r["last_ts"]}
        else:
            if ea != v["a"]:
                ab, ba = ba, ab
            v["ab"] = (v["ab"][0] + ab[0], v["ab"][1] + ab[1])
            v["ba"] = (v["ba"][0] + ba[0], v["ba"][1] + ba[1])
            v["last"] = r["last_ts"]
    return flows


def compare_one(segscope, pcap, ref_path):
    name = os.path.basename(pcap)
    ref, max_layer = load_ref(ref_path)
    p = subprocess.run([segscope, "flows", "-q", "--no-dpi", "-r", pcap, "--format", "csv"],
                       capture_output=True, text=True)
    out = {"name": name, "rows": len(ref), "ok": 0, "fail": [], "tolerated": [], "tunnel_outer": 0,
           "rc": p.returncode, "stderr": p.stderr.strip()}
    if p.returncode not in (0, 3):
        out["fail"].append("segscope exited %d: %s" % (p.returncode, p.stderr.strip()))
        return out
    if p.returncode == 3:
        # A capture cut short is an input error, but flows before it still count.
        out["input_error"] = p.stderr.strip()
    ours = load_ours(p.stdout)
    for k, r in ref.items():
        o = ours.pop(k, None)
        # The outer UDP header of a tunnel segscope unwraps (the inner flow
        # may be ICMP or ARP, so the reference need not have an inner row).
        outer = (k[0] == "udp" and
                 (r["ports"][0] in TUNNEL_PORTS or r["ports"][1] in TUNNEL_PORTS))
        if o is None:
            if outer:
                out["tunnel_outer"] += 1
                continue
            msg = "missing %s (ref %s / %s)" % (r["text"], r["ab"], r["ba"])
            (out["tolerated"] if r["err"] else out["fail"]).append(msg)
            continue
        ab, ba = (o["ab"], o["ba"]) if o["a"] == r["a"] else (o["ba"], o["ab"])
        if outer:
            if ab[0] <= r["ab"][0] and ba[0] <= r["ba"][0]:
                out["tunnel_outer"] += 1
            else:
                out["fail"].append("tunnel outer %s: ours %s/%s > ref %s/%s" % (r["text"], ab, ba, r["ab"], r["ba"]))
            continue
        problems = []
        if ab != r["ab"] or ba != r["ba"]:
            problems.append("counts ours %s/%s ref %s/%s" % (ab, ba, r["ab"], r["ba"]))
        if o["first"] != r["first"] or o["last"] != r["last"]:
            problems.append("time ours %s..%s ref %s..%s" % (o["first"], o["last"], r["first"], r["last"]))
        # tshark clamps frame.len at INT32_MAX and reads pcap seconds as
        # signed; segscope keeps the unsigned values the file holds.
        clamped = INT32_MAX in (r["ab"][1], r["ba"][1]) or r["first"].startswith("-")
        if problems:
            msg = "%s: %s" % (r["text"], "; ".join(problems))
            (out["tolerated"] if r["err"] or clamped else out["fail"]).append(msg)
        else:
            out["ok"] += 1
    for k, o in ours.items():
        out["fail"].append("extra %s %s %s <-> %s (ours %s/%s)" % (
            k[0], k[1], ipaddress.ip_address(k[2][0]), ipaddress.ip_address(k[3][0]), o["ab"], o["ba"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.environ.get("SEGSCOPE_SHARED", "../shared"))
    ap.add_argument("--segscope", default=os.environ.get("SEGSCOPE", "./segscope"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("only", nargs="*", help="capture names to compare (default: all)")
    a = ap.parse_args()
    data = os.path.join(a.shared, "data", "pcaps")
    if not os.path.isdir(data):
        print("SKIP: shared corpus not found at %s (set SEGSCOPE_SHARED)" % data)
        return 77
    jobs = []
    for sub in sorted(os.listdir(data)):
        refdir = os.path.join(data, sub, "reference")
        if not os.path.isdir(refdir):
            continue
        for ref in sorted(os.listdir(refdir)):
            if not ref.endswith(".conv.csv"):
                continue
            name = ref[:-len(".conv.csv")]
            if a.only and name not in a.only:
                continue
            pcap = os.path.join(data, sub, name)
            if os.path.exists(pcap):
                jobs.append((pcap, os.path.join(refdir, ref)))
    tot = {"files": 0, "rows": 0, "ok": 0, "fail": 0, "tolerated": 0, "tunnel_outer": 0}
    bad_files = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        results = list(ex.map(lambda j: compare_one(a.segscope, *j), jobs))
    for r in results:
        tot["files"] += 1
        tot["rows"] += r["rows"]
        tot["ok"] += r["ok"]
        tot["fail"] += len(r["fail"])
        tot["tolerated"] += len(r["tolerated"])
        tot["tunnel_outer"] += r["tunnel_outer"]
        if r["fail"]:
            bad_files.append(r["name"])
        if r["fail"] or a.verbose:
            print("%s: %d/%d rows match, %d failing, %d tolerated, %d tunnel-outer%s" % (
                r["name"], r["ok"], r["rows"], len(r["fail"]), len(r["tolerated"]), r["tunnel_outer"],
                " (input error: %s)" % r["input_error"] if "input_error" in r else ""))
            for m in r["fail"][:10]:
                print("  FAIL " + m)
            if len(r["fail"]) > 10:
                print("  ... %d more" % (len(r["fail"]) - 10))
            for m in r["tolerated"][:5] if a.verbose else []:
                print("  tolerated " + m)
    print("captures %(files)d, reference rows %(rows)d: %(ok)d match, %(fail)d failing, "
          "%(tolerated)d tolerated (tshark flagged malformed), %(tunnel_outer)d tunnel-outer rows" % tot)
    print("%d passed, %d failed" % (tot["files"] - len(bad_files), len(bad_files)))
    return 1 if bad_files else 0


if __name__ == "__main__":
    sys.exit(main())
