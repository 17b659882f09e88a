"""When one evaluation's result holds every answer of another, so that it answers it as it is, or
replaces it without --overwrite (nothing is lost).

A result holds what its identity says, and some identities hold others:
- a reward model's scores are added to the records and change no completion: a result scored by
  one holds the same evaluation without it;
- samples drawn beside the greedy completion (`--samples K`, greedy on) leave the greedy completion
  as it is: such a result holds the greedy-only evaluation of the same decoding (its pass@1 is that
  greedy completion), whatever the settings only samples depend on (evolm.options.SAMPLING_ONLY).
Fewer samples than a result holds are not held by it (Pass@K and Maj@K change with K), nor is one
reward model's scoring held by another's.

Why by hand: which evaluation settings leave a completion unchanged is evolm's own identity scheme.
"""

from __future__ import annotations

from evolm.eval.identity import run_hash
from evolm.options import SAMPLING_ONLY


def _greedy_only(decoding) -> bool:
    return isinstance(decoding, dict) and bool(decoding.get("greedy")) and decoding.get("samples") == 0


def _reduced(outer: dict, inner: dict) -> dict:
    """`outer` without what `inner` does not ask for: the reward model's scores, and samples beside a greedy
    completion when `inner` wants the greedy completion alone."""
    reduced = dict(outer)
    if inner.get("reward_model") is None and "reward_model" in outer:  # upstream identities have none
        reduced["reward_model"] = None
    outer_decoding, inner_decoding = outer.get("decoding"), inner.get("decoding")
    if isinstance(outer_decoding, dict) and outer_decoding.get("greedy") and _greedy_only(inner_decoding):
        reduced["decoding"] = {**outer_decoding, **{k: inner_decoding.get(k) for k in SAMPLING_ONLY if k in inner_decoding}}
    return reduced


def holds(outer: dict | None, inner: dict | None) -> bool:
    """Identity `outer`'s result holds every answer of identity `inner`'s (the same evaluation included)."""
    if not isinstance(outer, dict) or not isinstance(inner, dict):
        return False
    return run_hash(_reduced(outer, inner)) == run_hash(inner)


def adds_samples(outer: dict | None, inner: dict | None) -> bool:
    """`outer` holds `inner`, a greedy-only evaluation, and draws samples beside it."""
    return (holds(outer, inner) and _greedy_only((inner or {}).get("decoding"))
            and ((outer or {}).get("decoding") or {}).get("samples", 0) > 0)


def answered_by(previous: dict | None, key: dict) -> bool:
    """`previous` (a finished result) is another evaluation than `key` that holds it: it answers `key` as it is."""
    identity = previous.get("identity") if isinstance(previous, dict) else None
    return isinstance(identity, dict) and run_hash(identity) != run_hash(key) and holds(identity, key)


def what_it_adds(previous: dict, key: dict) -> str:
    """What a result `previous` holds beyond evaluation `key`: 'a reward model's scores', 'samples'..."""
    identity = previous.get("identity") or {}
    extra = []
    if identity.get("reward_model") is not None and key.get("reward_model") is None:
        extra.append("a reward model's scores")
    if adds_samples(identity, key):
        extra.append(f"{identity['decoding']['samples']} samples per problem")
    return " and ".join(extra)
