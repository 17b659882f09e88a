"""How long what is left of a study will take, learnt from the nodes it has finished.

The plan estimates each node's training from its FLOPs (`plan.estimated_seconds`); nothing estimates
its evaluations. One scale for the whole study (measured over estimated seconds, evaluation
included) goes far wrong at the start: the first nodes are short pre-training runs whose minute of
evaluation dwarfs their seconds of training, and that ratio (5x, measured on the mini study) was
applied to the long SFT and RL runs, an ETA of 5h43m for an hour's work. So training and evaluation
are learnt apart:

- training: the plan's estimate times the measured/estimated ratio of the finished nodes of the same
  stage (SFT and RL estimates are rougher than pre-training's), else of all trained nodes, else 1;
- evaluation: per checkpoint evaluated (a node with `--export-at` evaluates its exports too), the
  mean measured time of finished nodes with the same evaluations and preset, else of the same
  stage, else of all nodes, else nothing.

A node already trained (its evaluations missing) counts only its evaluation; a resumed run's
training is not learnt from (it trained only the rest of its estimate). The sum is divided by the
nodes run at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evolm.study.plan import Node


@dataclass
class Eta:
    estimates: dict[str, float | None]  # node id -> the plan's training seconds (None: unknown)
    jobs: int = 1
    _train: list[tuple[str, float, float]] = field(default_factory=list)  # (stage, measured, estimated)
    _evals: list[tuple[tuple, str, float]] = field(default_factory=list)  # ((evals, preset), stage, s per checkpoint)

    def record(self, node: Node, train_s: float | None, eval_s: float | None) -> None:
        """A finished node's training seconds (None: trained before, or resumed) and evaluation seconds."""
        estimate = self.estimates.get(node.id)
        if train_s is not None and estimate:
            self._train.append((node.stage, train_s, estimate))
        if eval_s is not None and node.evals:
            self._evals.append(((node.eval_key(), node.model), node.stage, eval_s / _checkpoints(node)))

    def _scale(self, stage: str) -> float:
        for rows in ([r for r in self._train if r[0] == stage], self._train):
            if rows:
                return sum(r[1] for r in rows) / sum(r[2] for r in rows)
        return 1.0

    def _eval_seconds(self, node: Node) -> float:
        if not node.evals:
            return 0.0
        key = (node.eval_key(), node.model)
        for rows in ([r for r in self._evals if r[0] == key], [r for r in self._evals if r[1] == node.stage], self._evals):
            if rows:
                return sum(r[2] for r in rows) / len(rows) * _checkpoints(node)
        return 0.0

    def seconds(self, left: list[Node], trained: set[str]) -> float | None:
        """Seconds until the nodes LEFT are done (those in TRAINED need only their evaluations); None
        when a node's training cannot be estimated."""
        if not left:
            return None
        total = 0.0
        for node in left:
            if node.id not in trained:
                estimate = self.estimates.get(node.id)
                if estimate is None:
                    return None
                total += estimate * self._scale(node.stage)
            total += self._eval_seconds(node)
        return total / max(1, min(self.jobs, len(left)))


def _checkpoints(node: Node) -> int:
    """The checkpoints a node's evaluations score: its own and its `--export-at` exports."""
    return 1 + len(node.exports())
