"""The out-of-domain test sets, shaped like the paper's.

    code_output.py    SynthCode: CRUXEval-style output prediction
    rules.py          SynthRules: BoardgameQA-style True/False/Uncertain (rules_logic.py: the
                      solver; rules_wording.py: the language)
    tables.py         SynthTable: TabMWP-style table questions
    facts.py          SynthFacts: StrategyQA-style True/False over numbered world facts
"""
