"""Math word problems with step-by-step solutions, and the math-domain text.

    problem_kit.py      the Problem record, goods and prices, fractions
    families_money.py   shopping, percentages, wages
    families_count.py   rates, ages, sharing, running totals
    families_number.py  geometry, equations, fractions of a quantity, averages
    word_problems.py    the SFT/RL pool and the SynthMath test levels
    arith_facts.py      arithmetic facts as the math text states them and the math cloze asks
    math_text.py        the math-domain documents (the FineMath stand-in)
"""
