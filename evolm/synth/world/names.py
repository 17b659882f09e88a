"""Procedural names for the synthetic world (syllables plus a suffix that marks the kind).

Invented names guarantee that nothing the model knows about the world can come from anywhere but
the generated text, and the suffixes (-ia for countries, -ium for elements, -wort for plants) give
a model something systematic to pick up, much like real naming conventions.
"""

from __future__ import annotations

import random

ONSETS = ("b bl br c ch cl cr d dr f fl fr g gl gr h j k kl l m n p pl pr r s sc sh sk sl sn sp "
          "st str t th tr v w z").split() + ["", "", ""]
NUCLEI = "a e i o u a e i o u a e i o u a e o ai au ea ei ia io ou".split()
CODAS = ["", "", "", "", "n", "r", "l", "s", "m", "th", "nd", "rn", "st", "x", "k", "sh", "ll",
         "rd", "lt", "nt"]

SUFFIXES = {
    "country": ["ia", "ea", "and", "or", "ara", "ova", "eth", "ira", "una", "os", "en", "ania"],
    "city": ["", "", "by", "ton", "mar", "holm", "ford", "os", "ir", "ene", "ath", "ora", "port",
             "wick", "dale", "heim"],
    "river": ["", "", "a", "en", "is", "ent", "uin", "ay", "ole"],
    "sea": ["", "ic", "ean", "is"],
    "mountains": ["", "an", "ine", "ur"],
    "given": ["", "", "a", "o", "in", "el", "an", "is"],
    "family": ["", "son", "ov", "ari", "ez", "ell", "ard", "ini", "eau", "berg", "ski", "ton"],
    "animal": ["", "", "ek", "ox", "ar", "in", "ot", "el", "un"],
    "plant": ["wort", "weed", "bloom", "root", "thorn", "leaf", "berry", "moss", "reed", "vine",
              "grass", "bell", "cap", "fern"],
    "element": ["ium", "ium", "ium", "on", "ine", "ite", "ar"],
    "currency": ["", "", "a", "et", "il"],
}
_BAD = ("aa", "ii", "uu", "uo", "oe", "yy", "ww", "jj", "hh", "qq", "thth", "shsh")
_VOWELS = set("aeiouy")


def _syllable(rng: random.Random, final: bool) -> str:
    coda = rng.choice(CODAS) if final or rng.random() < 0.3 else ""
    return rng.choice(ONSETS) + rng.choice(NUCLEI) + coda


class NameMaker:
    """Makes unique names across the whole world, so no two entities share a name."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()  # membership tests only; never iterated

    def make(self, kind: str, syllables: tuple[int, int] = (2, 3), capital: bool = True,
             min_len: int = 4, max_len: int = 11) -> str:
        rng = self.rng
        suffixes = SUFFIXES[kind]
        for _ in range(1000):
            n = rng.randint(*syllables)
            stem = "".join(_syllable(rng, i == n - 1) for i in range(n))
            suffix = rng.choice(suffixes)
            if suffix and stem[-1] in _VOWELS and suffix[0] in _VOWELS:
                stem = stem[:-1]  # Varnia, not Varnaia
            word = stem + suffix
            if not (min_len <= len(word) <= max_len) or any(b in word for b in _BAD):
                continue
            if not any(c in _VOWELS for c in word):
                continue
            word = word.capitalize() if capital else word.lower()
            key = word.lower()
            if key in self.used:
                continue
            self.used.add(key)
            return word
        raise RuntimeError(f"could not make a fresh {kind} name")  # pragma: no cover


def demonym(country: str) -> str:
    """Adjective / language name for a country: Varnia -> Varnese, Ostor -> Ostorish."""
    stem = country.rstrip("aeiouy") or country
    if country.endswith(("ia", "ea", "ania")):
        return stem + "ese"
    if country.endswith(("or", "en", "and", "eth")):
        return stem + "ish"
    return stem + "ic"
