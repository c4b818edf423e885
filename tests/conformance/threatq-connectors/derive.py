# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes derived-scores.ndjson: the captured stix-shifter indicators with only their `score`
replaced by the shapes real ThreatQ data also has (PROVENANCE.md says where each shape is seen).
Nothing else of an indicator changes.  Run it from anywhere; the result is committed, and
test_real_data.py checks that the committed file is what this script writes.

    python3 tests/conformance/threatq-connectors/derive.py [--check]
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "stix-shifter-threat_q.ndjson"
TARGET = HERE / "derived-scores.ndjson"

# (id of the captured indicator, the score it gets)
SCORES = [
    # ThreatQ's score object: a generated score with two decimals, as a string, and an analyst's
    # manual score that overrides it
    (14213, {"generated_score": "0.00", "manual_score": "7", "indicator_id": 14213,
             "score_config_hash": "0000000000000000000000000000000000000000"}),
    # the object without a manual score: the generated one counts, here not an integer
    (2543380, {"generated_score": "3.50", "manual_score": None, "indicator_id": 2543380}),
    # a non-integer score as a string
    (1827576, "7.5"),
    # an object with neither member usable
    (2543358, {"generated_score": None, "manual_score": None, "indicator_id": 2543358}),
]


def derive():
    by_id = {}
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            ind = json.loads(line)
            by_id[ind["id"]] = ind
    out = []
    for ind_id, score in SCORES:
        ind = dict(by_id[ind_id])
        ind["score"] = score
        out.append(json.dumps(ind, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    text = derive()
    if "--check" in sys.argv[1:]:
        sys.exit(0 if TARGET.read_text(encoding="utf-8") == text else 1)
    TARGET.write_text(text, encoding="utf-8")
