"""How the mean reward moved during an `evolm rl` run: the first and the last third of its steps.

    python examples/reward_thirds.py RL_CHECKPOINT
Prints one line: `RL steps: N; mean reward first third F, last third L`.
"""

import json
import sys

with open(f"{sys.argv[1]}/metrics.jsonl", encoding="utf-8") as f:
    rows = [json.loads(line) for line in f if '"reward"' in line]
third = max(1, len(rows) // 3)
first = sum(r["reward"] for r in rows[:third]) / third
last = sum(r["reward"] for r in rows[-third:]) / third
print(f"RL steps: {len(rows)}; mean reward first third {first:.3f}, last third {last:.3f}")
