"""Which evaluation identities hold which (evolm.eval.contains): pure functions, no model."""

from evolm.eval.contains import adds_samples, answered_by, holds, what_it_adds
from evolm.eval.identity import run_hash


def _identity(samples=0, greedy=True, rm=None, tokens=48, path="/runs/a", temperature=1.0, seed=0):
    return {"model": {"kind": "evolm", "manifest_sha256": "m" * 64, "path": path}, "task": {"name": "T", "sha256": "t" * 64},
            "decoding": {"greedy": greedy, "samples": samples, "max_new_tokens": tokens, "temperature": temperature,
                         "top_p": 1.0, "seed": seed},
            "grader": "g", "backend": "transformers", "reward_model": rm}


RM = {"kind": "hf", "path": "/rm", "files_sha256": "r" * 64}


def test_samples_and_reward_model_scores_hold_the_greedy_evaluation():
    greedy, sampled, scored = _identity(), _identity(samples=4), _identity(samples=4, rm=RM)
    assert holds(greedy, greedy) and holds(sampled, greedy) and holds(scored, greedy) and holds(scored, sampled)
    assert not holds(greedy, sampled) and not holds(sampled, scored)
    # fewer samples, another reward model, a sampled result without its greedy completion, other decoding: not held
    assert not holds(_identity(samples=8), sampled) and not holds(sampled, _identity(samples=8))
    assert not holds(_identity(samples=4, rm={**RM, "files_sha256": "x" * 64}), scored)
    assert not holds(_identity(samples=4, greedy=False), greedy)
    assert not holds(_identity(samples=4, tokens=64), greedy)
    # where the model lies is no part of it
    assert holds(_identity(samples=4, path="/elsewhere"), greedy)
    # settings only the samples depend on leave the greedy completion as it is, not the samples
    assert holds(_identity(samples=4, temperature=0.7, seed=3), greedy) and holds(greedy, _identity(temperature=0.7))
    assert not holds(_identity(samples=4, temperature=0.7), sampled)
    assert adds_samples(sampled, greedy) and adds_samples(scored, greedy)
    assert not adds_samples(greedy, greedy) and not adds_samples(scored, sampled) and not adds_samples(greedy, sampled)


def test_answered_by_is_another_evaluation_that_holds_it():
    sampled = {"identity": _identity(samples=4, rm=RM), "run": run_hash(_identity(samples=4, rm=RM))}
    assert answered_by(sampled, _identity()) and what_it_adds(sampled, _identity()) == "a reward model's scores and 4 samples per problem"
    assert not answered_by(sampled, _identity(samples=4, rm=RM))  # the same evaluation: reused as such, not "answered"
    assert not answered_by({"run": "x"}, _identity()) and not answered_by(None, _identity())


def test_identities_without_decoding_or_reward_model():
    upstream = {"model": {"kind": "hub", "name": "x/y"}, "tasks": ["hellaswag"], "limit": 10}
    assert holds(upstream, dict(upstream)) and not holds(upstream, {**upstream, "limit": 20})
