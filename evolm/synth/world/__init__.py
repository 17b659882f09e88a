"""The seeded world and the general-domain text about it.

    names.py           invented names (syllables plus a suffix that marks the kind)
    lexicon.py         the English word lists the grammar and the world draw from
    entities.py        the world itself: countries, cities, people, animals, ... (build_world)
    fact_sentences.py  how each fact is worded: the cloze form and its paraphrases
    grammar.py         fact-free English sentences over the lexicon
    general_text.py    the general-domain documents (the FineWeb-Edu stand-in)
"""
