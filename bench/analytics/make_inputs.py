#!/usr/bin/env python3
"""Writes the report benchmark's plan directory and sends file from a generated dataset.

Usage: make_inputs.py RAW_DIR OUT_DIR [CAMPAIGNS] [AUDIENCE]

RAW_DIR is `audience generate --out`. OUT_DIR gets plan/summary.json, plan/campaigns/*.csv
(AUDIENCE customers per campaign, 10% held out) and sends.jsonl (engage's send records for the
others: mostly sent, some capped, not_opted_in, control). Seeded: the same files every run.
"""
import collections
import csv
import json
import os
import random
import sys

raw, out = sys.argv[1], sys.argv[2]
n_campaigns = int(sys.argv[3]) if len(sys.argv) > 3 else 20
audience = int(sys.argv[4]) if len(sys.argv) > 4 else 50000
rng = random.Random(8)

customers = []  # (id, external_id, device_id, [aliases])
with open(os.path.join(raw, "customers.csv"), newline="") as f:
    for row in csv.DictReader(f):
        aliases = [a for a in row["aliases"].split(";") if a]
        customers.append((row["customer_id"], row["external_id"], row["device_id"], aliases))
categories = collections.Counter()
with open(os.path.join(raw, "products.csv"), newline="") as f:
    for row in csv.DictReader(f):
        categories[row["category"]] += 1
top = [c for c, _ in categories.most_common(n_campaigns)]
while len(top) < n_campaigns:
    top.append(top[len(top) % len(categories)])

os.makedirs(os.path.join(out, "plan", "campaigns"), exist_ok=True)
channels = ["email", "sms", "push"]
summary = {"format": "cohortflow-plan", "plan": "Benchmark", "as_of": "2025-01-31T00:00:00Z", "horizon_days": 30,
           "campaigns": []}
with open(os.path.join(out, "sends.jsonl"), "w") as sends:
    record = 0
    for k in range(n_campaigns):
        name = f"Campaign {k + 1:02d} {top[k]}"
        cohort = f"cf-bench-{k:02d}"
        channel = channels[k % 3]
        send_date = f"2025-02-{k % 28 + 1:02d}"
        summary["campaigns"].append({"name": name, "export_file_name": name, "cohort_id": cohort,
                                     "offer": "category = " + json.dumps(top[k]), "channel": channel,
                                     "send_date": send_date, "selected": 0, "holdout": 0,
                                     "expected_buyers": 0, "expected_revenue": 0})
        chosen = rng.sample(range(len(customers)), audience)
        time = int(__import__("calendar").timegm((2025, 2, k % 28 + 1, 9, 0, 0)))
        with open(os.path.join(out, "plan", "campaigns", cohort + ".csv"), "w") as f:
            f.write("customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n")
            for rank, i in enumerate(chosen):
                cid, ext, dev, aliases = customers[i]
                holdout = rng.random() < 0.1
                p = 0.3 * (1 - rank / audience) + 0.01
                f.write(f"{cid},{ext},{aliases[0] if aliases else ''},{dev},{p:.5f},{10 * p:.2f},"
                        f"{1 + rank * 10 // audience},{1 if holdout else 0}\n")
                if holdout:
                    continue
                u = rng.random()
                outcome = "sent" if u < 0.90 else "capped" if u < 0.94 else "not_opted_in" if u < 0.97 else "control"
                record += 1
                sends.write(json.dumps({
                    "id": f"r{record}", "user_id": ext or None, "external_user_id": ext or None,
                    "braze_id": f"b{cid}", "device_id": dev or None,
                    "user_aliases": [{"alias_label": a.split(":", 1)[0], "alias_name": a.split(":", 1)[1]}
                                     for a in aliases],
                    "campaign_id": f"engage-{k}", "campaign_name": name, "dispatch_id": f"d{k}", "send_id": None,
                    "channel": channel, "time": time, "outcome": outcome}, separators=(",", ":")) + "\n")
with open(os.path.join(out, "plan", "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
print(f"wrote {n_campaigns} campaigns of {audience} customers and {record} send records into {out}")
