"""Which model is evaluated, the identity hash of an evaluation, and reuse of its finished result."""

from __future__ import annotations

import hashlib
from pathlib import Path

from evolm.checkpoint import MANIFEST, check_policy, hash_files, load_checkpoint
from evolm.errors import BadInput, causes
from evolm.fsutil import canonical_json, sha256_bytes


def model_identity(spec: str, *, policy: bool = True) -> dict:
    """An evolm checkpoint: its manifest hash and signature, once every file it lists matches its
    sha256 (as `evolm sft`/`rl`/`cpt` check a parent: an altered weight or template file is refused
    before anything is written); a plain HF directory: its path and one hash over all its files'
    hashes (sizes would miss an edited byte); a hub name: the name and the commit it resolves to
    (`hub_commit`), so that new weights pushed under the name are another model. `policy`: the model
    generates (a reward model is refused); else it is the reward model."""
    path = Path(spec)
    if path.is_dir():
        if (path / MANIFEST).is_file():
            checkpoint = load_checkpoint(path, verify="full")
            if policy:
                check_policy(checkpoint, "evaluated")
            return {"kind": "evolm", "path": str(path.resolve()), "manifest_sha256": checkpoint.manifest_sha256,
                    "signature": checkpoint.signature, "stage": checkpoint.stage}
        if not (path / "config.json").is_file():
            raise BadInput(f"{path} is neither an evolm checkpoint nor a Hugging Face model directory (no config.json).")
        files = {rel: record.sha256 for rel, record in hash_files(path).items()}
        return {"kind": "hf", "path": str(path.resolve()), "files_sha256": sha256_bytes(canonical_json(files).encode())}
    if spec.count("/") == 1 and not spec.startswith((".", "/")) and not path.exists():
        commit = hub_commit(spec)
        if commit is None and path.parent.is_dir():  # runs/sft-1M mistyped: a local folder's missing child
            raise BadInput(f"Model {spec} does not exist: {path.parent} is a local folder without {path.name}.")
        return {"kind": "hub", "name": spec, **({"commit": commit} if commit else {})}
    raise BadInput(f"Model {spec} does not exist (give a checkpoint directory or a hub name such as EleutherAI/pythia-160m).")


def hub_commit(name: str) -> str | None:
    """The commit a hub model name resolves to now: the hub's answer, else (offline) that of the copy
    in the local cache, which is what would be loaded; None where neither says."""
    from huggingface_hub import HfApi, constants, try_to_load_from_cache

    try:  # bounded as the hub's own metadata requests are: a network that drops packets fails in seconds
        return HfApi().model_info(name, timeout=constants.HF_HUB_ETAG_TIMEOUT).sha
    except Exception:  # offline, or a hub that will not say
        pass
    cached = try_to_load_from_cache(name, "config.json")
    if isinstance(cached, str) and Path(cached).parent.parent.name == "snapshots":
        return Path(cached).parent.name
    return None


def loaded_revision(identity: dict) -> str | None:
    """The revision every loader (transformers, lm-eval, vLLM) reads a model at: for a hub name the
    commit its identity recorded, so that the weights evaluated are the ones its results name even when
    new ones are pushed under the name between the two; None (the files as they are) for a local folder
    and for a hub name no commit was found for."""
    return identity.get("commit") if identity["kind"] == "hub" else None


def check_hub_model(name: str, revision: str | None = None) -> None:
    """A hub model must be reachable (or cached) before any work: lm-eval would otherwise fail deep
    inside with a raw OSError after the output folder exists. Offline (HF_HUB_OFFLINE=1) this
    answers at once from the local cache."""
    import os

    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(name, revision=revision)
    except (OSError, ValueError) as exc:
        at = f" at {revision[:12]}" if revision else ""
        if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") and _missing_from_cache(exc):
            raise BadInput(f"Model {name}{at} is not in the local Hugging Face cache, and the hub is off (HF_HUB_OFFLINE is set).") from None
        raise BadInput(f"Cannot load model {name}{at} from the Hugging Face hub ({str(exc).splitlines()[0]}).") from None


def _missing_from_cache(exc: BaseException) -> bool:
    """Whether transformers' error says the files are absent (huggingface_hub's LocalEntryNotFoundError is
    a FileNotFoundError, raised under transformers' OSError), not, say, a cached config.json that is not JSON."""
    return any(isinstance(e, FileNotFoundError) or "does not appear to have a file" in str(e) for e in causes(exc))


# Where a model, a responses file or validation shards lie, not what they are (the manifest hash, the
# files' hashes, the shards' fingerprint say that): kept in a result's identity for people to read,
# left out of its hash, so that a moved or copied checkpoint keeps its results.
LOCATIONS = frozenset({"path", "shards"})


def _without_locations(value):
    if isinstance(value, dict):
        return {k: _without_locations(v) for k, v in value.items() if k not in LOCATIONS}
    return value


def run_hash(key: dict) -> str:
    return hashlib.sha256(canonical_json(_without_locations(key)).encode()).hexdigest()[:16]


def legacy_run_hash(key: dict) -> str:
    """The hash evolm gave `key` while locations were still hashed: what per-sample records of an
    evaluation interrupted before then carry (the model in the same place)."""
    return hashlib.sha256(canonical_json(key).encode()).hexdigest()[:16]


def same_run(previous: dict, run: str) -> bool:
    """A result (or its identity) was made by the evaluation `run`: the same hash, or, for results
    written when locations were still hashed, the same hash of its stored identity by today's rule
    (the validation shards' fingerprint, recorded beside such an identity, taking the path's place)."""
    if previous.get("run") == run:
        return True
    identity = previous.get("identity")
    if not isinstance(identity, dict):
        return False
    val, measured = identity.get("val"), previous.get("val")
    if isinstance(val, dict) and "fingerprint" not in val:
        if not (isinstance(measured, dict) and measured.get("fingerprint")):
            return False
        identity = {**identity, "val": {**val, "fingerprint": measured["fingerprint"]}}
    return run_hash(identity) == run


def read_result(path: Path) -> dict | None:
    """The result at `path` when it exists and parses as a JSON object, else None."""
    import json

    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None


def finished_result(path: Path, run: str) -> dict | None:
    """The result at `path` when it exists, parses and was made by the evaluation `run`."""
    previous = read_result(path)
    return previous if previous is not None and same_run(previous, run) else None


def outside_tokenizer_fingerprint(spec: str, identity: dict) -> str | None:
    """The fingerprint (evolm.tokenizer.tokenizer_fingerprint, as token shards record theirs) of a Hugging
    Face model's tokenizer.json, local or on the hub at the commit evaluated; None where it has none
    (a slow tokenizer only) or the hub cannot give it."""
    from evolm.tokenizer import tokenizer_fingerprint

    if identity["kind"] == "hf":
        return tokenizer_fingerprint(spec) if (Path(spec) / "tokenizer.json").is_file() else None
    from huggingface_hub import hf_hub_download

    try:
        return tokenizer_fingerprint(Path(hf_hub_download(spec, "tokenizer.json", revision=identity.get("commit"))).parent)
    except Exception:  # no such file in the repository, or offline without it in the cache
        return None
