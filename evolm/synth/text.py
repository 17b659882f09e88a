"""English text helpers for every generator: inflection, articles, capitals, numbers in words.

One home for the small rules the world text, the word problems and the out-of-domain sets all
need, so a plural or a capital is spelled the same way in every file. The rules cover the words
these generators use, not all of English; the seed-to-bytes contract depends on them, so a
change here changes the generated data.
"""

from __future__ import annotations


def word_list(text: str) -> tuple[str, ...]:
    """The words of a whitespace-separated list, duplicates dropped, order kept (the order fixes
    each word's seeded rank, so it matters)."""
    return tuple(dict.fromkeys(text.split()))


IRREGULAR_PAST = {
    "build": "built", "catch": "caught", "find": "found", "lose": "lost", "keep": "kept",
    "hold": "held", "throw": "threw", "sell": "sold", "buy": "bought", "weave": "wove",
    "send": "sent", "write": "wrote", "read": "read", "teach": "taught", "forget": "forgot",
    "feed": "fed", "cut": "cut", "light": "lit", "dig": "dug", "leave": "left", "grind": "ground",
    "bring": "brought", "make": "made", "take": "took", "give": "gave", "see": "saw",
    "draw": "drew", "know": "knew", "tell": "told", "show": "showed", "hide": "hid",
    "seek": "sought", "lend": "lent", "split": "split", "bend": "bent", "break": "broke",
    "ring": "rang", "strike": "struck", "beat": "beat", "shake": "shook", "sing": "sang",
    "begin": "began", "choose": "chose", "grow": "grew", "spin": "spun", "rise": "rose",
    "fall": "fell", "shine": "shone", "fight": "fought", "speak": "spoke", "swim": "swam",
    "freeze": "froze", "sink": "sank", "weep": "wept", "fly": "flew", "spread": "spread",
    "shrink": "shrank", "sleep": "slept", "wind": "wound", "lead": "led", "win": "won",
    "meet": "met", "run": "ran", "sit": "sat", "stand": "stood", "think": "thought",
    "fast": "fasted", "bind": "bound", "hang": "hung", "prove": "proved", "say": "said",
}
IRREGULAR_PLURAL = {
    "knife": "knives", "leaf": "leaves", "shelf": "shelves", "wolf": "wolves", "child": "children",
    "fisherman": "fishermen", "woman": "women", "man": "men", "mouse": "mice", "foot": "feet",
    "tooth": "teeth", "goose": "geese", "ox": "oxen", "sheep": "sheep", "deer": "deer",
    "fish": "fish", "series": "series", "stableboy": "stableboys", "lumberjack": "lumberjacks",
    "deckhand": "deckhands", "quarryman": "quarrymen", "coachman": "coachmen",
    "ferryman": "ferrymen", "helmsman": "helmsmen", "draughtsman": "draughtsmen",
    "woodcutter": "woodcutters", "cherry": "cherries", "bakery": "bakeries", "library": "libraries",
}

_VOWELS = "aeiou"


def _add_s(word: str, es_endings: tuple[str, ...]) -> str:
    """The regular -s / -es / -ies suffix shared by plurals and third-person verbs."""
    if word.endswith(es_endings):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in _VOWELS:
        return word[:-1] + "ies"
    return word + "s"


def plural(noun: str) -> str:
    """English plural of a countable noun or noun phrase: knife -> knives, box of markers ->
    boxes of markers, lighthouse-keeper -> lighthouse-keepers."""
    if noun in IRREGULAR_PLURAL:
        return IRREGULAR_PLURAL[noun]
    head, of, tail = noun.partition(" of ")
    if of:  # the head noun takes the plural
        return plural(head) + of + tail
    if "-" in noun:
        head, _, last = noun.rpartition("-")
        return head + "-" + plural(last)
    return _add_s(noun, ("s", "x", "z", "ch", "sh"))


def third_person(verb: str) -> str:
    """Present tense, third person singular: build -> builds, carry -> carries."""
    return _add_s(verb, ("s", "x", "z", "ch", "sh", "o"))


def _doubles_last(verb: str) -> bool:
    """Short consonant-vowel-consonant verbs double the last letter: stop -> stopped, stopping."""
    return (3 <= len(verb) <= 4 and verb[-1] not in _VOWELS + "wxy"
            and verb[-2] in _VOWELS and verb[-3] not in _VOWELS)


def past(verb: str) -> str:
    """Simple past: irregular table first, then the spelling rules for -ed."""
    if verb in IRREGULAR_PAST:
        return IRREGULAR_PAST[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in _VOWELS:
        return verb[:-1] + "ied"
    if _doubles_last(verb):
        return verb + verb[-1] + "ed"
    return verb + "ed"


def gerund(verb: str) -> str:
    """-ing form: make -> making, plan -> planning."""
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    if _doubles_last(verb):
        return verb + verb[-1] + "ing"
    return verb + "ing"


def article(word: str) -> str:
    """'a' or 'an' for the word that follows (by spelling, which is right for these words)."""
    return "an" if word[:1].lower() in _VOWELS else "a"


def with_article(noun: str) -> str:
    """'an eraser', 'a ruler'."""
    return f"{article(noun)} {noun}"


def cap(text: str) -> str:
    """Capitalise the first character only (str.capitalize would lower-case proper names)."""
    return text[:1].upper() + text[1:]


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """English words for -1,000,000 < n < 1,000,000: 'two hundred and forty-one'."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " and " + number_words(rest))
    if n < 1_000_000:
        rest = n % 1000
        head = number_words(n // 1000) + " thousand"
        if rest == 0:
            return head
        return head + (" and " if rest < 100 else " ") + number_words(rest)
    raise ValueError(n)


def small_number(n: int) -> str:
    """Zero to ten in words, anything else in digits (the usual style rule for counts in prose)."""
    return number_words(n) if 0 <= n <= 10 else str(n)


def size_text(n: int) -> str:
    """A byte count for people: '640.3 kB', '1.5 MB'."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    return f"{n / 1000:.1f} kB"
