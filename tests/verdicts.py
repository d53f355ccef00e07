#!/usr/bin/env python3
"""Compare "segscope check --list --format json" with the benchmark scorer.

    verdicts.py SCORE_PY TRUTH POLICY CHECK_JSON

For every distinct flow (src, dst, proto, dport) of the scenario's truth,
the verdict segscope check gave on test.pcap must equal the scorer's
Policy.allows() for the same policy.  A truth flow that check did not see
is a mismatch too.  Prints one line per mismatch (at most 20) and a
summary; exit 1 on any mismatch, 0 otherwise.
"""
import importlib.util
import json
import sys


def main():
    score_py, truth_path, policy_path, check_path = sys.argv[1:5]
    spec = importlib.util.spec_from_file_location("score", score_py)
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    truth = json.load(open(truth_path))
    pol = score.Policy.from_json(json.load(open(policy_path)), where=policy_path)
    check = json.load(open(check_path))
    seen = {}
    for f in check.get("flows", []):
        port = f.get("port") if f["proto"] != "icmp" else None
        seen[(f["src"], f["dst"], f["proto"], port)] = f["verdict"] == "allow"
    flows = {(f["src"], f["dst"], f["proto"], f["dport"]) for f in truth["flows"]}
    bad = 0
    for k in sorted(flows, key=str):
        want = pol.allows(*k)
        got = seen.get(k)
        if got is None or got != want:
            bad += 1
            if bad <= 20:
                print("mismatch: %s -> %s %s/%s: scorer %s, check %s"
                      % (k[0], k[1], k[2], k[3], "allow" if want else "deny",
                         "not seen" if got is None else ("allow" if got else "deny")))
    print("%d truth flows, %d verdicts differ" % (len(flows), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
