"""SynthCode: CRUXEval-style output prediction for small generated Python functions.

A function is a short pipeline of typed steps (string, list and integer operations, loops,
conditionals) over its input. The gold answer is never reasoned out by the generator: the
function is executed in a fresh namespace whose builtins are a small whitelist, and the answer
is `repr` of what it returns, exactly what CRUXEval's graders compare against.
"""

from __future__ import annotations

import builtins
import copy
import random

from evolm.synth.rng import make_rng
from evolm.synth.world import lexicon as lx

PROMPT = ("You are given the following function:\n\n{code}\n\nYou are also given the following "
          "input (the order of the input is the same as the order of the input variables in the "
          "function):\n\n{inputs}\n\nWith the given function and input, what would be the output?")

SAFE_BUILTINS = {name: getattr(builtins, name)
                 for name in ("len", "range", "sum", "sorted", "min", "max", "abs", "str", "int",
                              "list", "enumerate", "reversed", "bool", "dict", "tuple", "zip")}


def run_function(code: str, args: tuple):
    """Execute `code` (which defines f) on a deep copy of args with only whitelisted builtins."""
    namespace: dict = {"__builtins__": dict(SAFE_BUILTINS)}
    exec(compile(code, "<synth-code>", "exec"), namespace)  # noqa: S102 - code we generated
    return namespace["f"](*copy.deepcopy(args))


# -- inputs ------------------------------------------------------------------------------------
def _text(rng: random.Random) -> str:
    words = [rng.choice(lx.THINGS + lx.ADJECTIVES) for _ in range(rng.randint(1, 4))]
    s = " ".join(words)
    r = rng.random()
    if r < 0.25:
        s = "".join(c.upper() if rng.random() < 0.3 else c for c in s)
    elif r < 0.4:
        s = s.title()
    if rng.random() < 0.3:
        s += str(rng.randint(0, 99))
    if rng.random() < 0.15:
        s = rng.choice(("!", "?", "#", "-", ".")) + s
    return s[:28]


def _nums(rng: random.Random) -> list[int]:
    return [rng.randint(-5, 30) if rng.random() < 0.3 else rng.randint(0, 20)
            for _ in range(rng.randint(3, 8))]


# -- steps: (rng, var, extra) -> (lines, new_var, new_type) --------------------------------------
# `extra` is the optional second parameter ("ch" for strings, "k" for lists), or None.
COND_CHAR = ("c in 'aeiou'", "c.isdigit()", "c.isupper()", "c == ' '", "c.isalpha()",
             "c.islower()", "c not in 'aeiou'")
EXPR_CHAR = ("c.upper()", "c.lower()", "c * 2", "'*'", "''", "c", "'-'")


def str_step(rng: random.Random, v: str, extra: str | None):
    r = rng.randrange(12)
    if r == 0:
        m = rng.choice(("upper", "lower", "swapcase", "title", "capitalize", "strip"))
        return [f"{v} = {v}.{m}()"], v, "str"
    if r == 1:
        a, b = rng.choice("aeiost "), rng.choice(("", "x", "_", "!", "ab", "0"))
        return [f"{v} = {v}.replace({a!r}, {b!r})"], v, "str"
    if r == 2:
        sl = rng.choice(("[::-1]", f"[{rng.randint(1, 4)}:]", f"[:{rng.randint(2, 8)}]", "[::2]",
                         "[1::2]", f"[{rng.randint(0, 2)}:-{rng.randint(1, 3)}]"))
        return [f"{v} = {v}{sl}"], v, "str"
    if r in (3, 4):
        cond, e1, e2 = rng.choice(COND_CHAR), rng.choice(EXPR_CHAR), rng.choice(EXPR_CHAR)
        if e1 == e2:
            e2 = "c"
        return ["result = ''", f"for c in {v}:", f"    if {cond}:", f"        result += {e1}",
                "    else:", f"        result += {e2}"], "result", "str"
    if r == 5:
        cond = rng.choice(COND_CHAR)
        return ["count = 0", f"for c in {v}:", f"    if {cond}:", "        count += 1"], "count", "int"
    if r == 6:
        if extra:
            return [f"{v} = {v}.replace({extra}, {rng.choice(('', '+', '--'))!r})"], v, "str"
        return [f"n = {v}.count({rng.choice('aeiou ')!r})"], "n", "int"
    if r == 7:
        sep = rng.choice((" ", "-", "", ", ", "|"))
        return [f"{v} = {sep!r}.join({v}.split())"], v, "str"
    if r == 8:
        return [f"words = {v}.split()"], "words", "strlist"
    if r == 9:
        if extra:
            return [f"idx = {v}.find({extra})"], "idx", "int"
        return [f"idx = {v}.find({rng.choice('aeiou')!r})"], "idx", "int"
    if r == 10:
        return [f"{v} = ''.join(sorted({v}))"], v, "str"
    piece = rng.choice(("ab", "x", "!", "0", "yes", "#"))
    return [rng.choice((f"{v} = {v} + {piece!r}", f"{v} = {piece!r} + {v}", f"{v} = {v} * 2"))], v, "str"


def strlist_step(rng: random.Random, v: str, extra: str | None):
    r = rng.randrange(7)
    if r == 0:
        return [f"{v} = [w[::-1] for w in {v}]"], v, "strlist"
    if r == 1:
        k = rng.randint(2, 5)
        return [f"{v} = [w for w in {v} if len(w) > {k}]"], v, "strlist"
    if r == 2:
        return [f"out = ' '.join({v}[::-1])"], "out", "str"
    if r == 3:
        return [f"n = len({v})"], "n", "int"
    if r == 4:
        return [f"{v} = sorted({v})"], v, "strlist"
    if r == 5:
        return [f"{v} = [w.capitalize() for w in {v}]"], v, "strlist"
    return ["lengths = []", f"for w in {v}:", "    lengths.append(len(w))"], "lengths", "list"


def list_step(rng: random.Random, v: str, extra: str | None):
    k = extra or str(rng.randint(2, 5))
    r = rng.randrange(13)
    if r == 0:
        e = rng.choice((f"x * {k}", f"x + {k}", f"x % {k}", f"x // {k}", "-x", f"abs(x - {k})", "x * x"))
        return [f"{v} = [{e} for x in {v}]"], v, "list"
    if r == 1:
        cond = rng.choice((f"x % {k} == 0", f"x > {k}", f"x != {k}", f"x < {k}", "x % 2 == 1"))
        return [f"{v} = [x for x in {v} if {cond}]"], v, "list"
    if r == 2:
        e = rng.choice(("sorted({v})", "sorted({v}, reverse=True)", "{v}[::-1]", "{v}[1:]",
                        "{v}[:-1]", "{v}[::2]", f"{v}[{rng.randint(0, 2)}:{rng.randint(3, 6)}]"))
        return [f"{v} = {e.format(v=v)}"], v, "list"
    if r == 3:
        op = rng.choice((f"{v}.append({k})", f"{v}.insert({rng.randint(0, 3)}, {k})", f"{v}.pop()",
                         f"{v}.pop(0)", f"{v}.reverse()", f"{v}.sort()",
                         f"{v}.extend([{rng.randint(0, 9)}, {rng.randint(0, 9)}])",
                         f"{v}.remove({v}[{rng.randint(0, 2)}])"))
        return [op], v, "list"
    if r == 4:
        e = rng.choice(("sum({v})", "len({v})", "max({v})", "min({v})", f"{v}.count({k})",
                        "max({v}) - min({v})", "sum({v}) // len({v})"))
        return [f"result = {e.format(v=v)}"], "result", "int"
    if r == 5:
        return ["total = 0", f"for i, x in enumerate({v}):", "    if i % 2 == 0:", "        total += x",
                "    else:", "        total -= x"], "total", "int"
    if r == 6:
        return ["counts = {}", f"for x in {v}:", "    counts[x] = counts.get(x, 0) + 1"], "counts", "dict"
    if r == 7:
        return ["out = []", "running = 0", f"for x in {v}:", "    running += x",
                "    out.append(running)"], "out", "list"
    if r == 8:
        sep = rng.choice(("", "-", ",", " "))
        return [f"s = {sep!r}.join([str(x) for x in {v}])"], "s", "str"
    if r == 9:
        return ["best = 0", f"for x in {v}:", "    if x > best:", "        best = x"], "best", "int"
    if r == 10:
        return ["evens = []", "odds = []", f"for x in {v}:", "    if x % 2 == 0:",
                "        evens.append(x)", "    else:", "        odds.append(x)",
                "out = evens + odds"], "out", "list"
    if r == 11:
        return ["i = 0", f"while i < len({v}) and {v}[i] < {k}:", "    i += 1"], "i", "int"
    return [f"{v} = [{v}[i] + {v}[i + 1] for i in range(len({v}) - 1)]"], v, "list"


def int_step(rng: random.Random, v: str, extra: str | None):
    r = rng.randrange(9)
    k = rng.randint(2, 9)
    if r == 0:
        e = rng.choice((f"{v} * {k} + {rng.randint(1, 20)}", f"{v} // {k}", f"{v} % {k}",
                        f"abs({v} - {rng.randint(5, 60)})", f"{v} * {v}", f"{v} - {k} * 3"))
        return [f"{v} = {e}"], v, "int"
    if r == 1:
        return ["total = 0", f"m = abs({v})", "while m > 0:", "    total += m % 10", "    m //= 10"], "total", "int"
    if r == 2:
        return [f"s = str({v})[::-1]"], "s", "str"
    if r == 3:
        return ["total = 0", f"for i in range(min(abs({v}), 40)):", f"    if i % {k} == 0:",
                "        total += i"], "total", "int"
    if r == 4:
        return [f"seq = list(range(0, min(abs({v}), 30), {k}))"], "seq", "list"
    if r == 5:
        return [f"if {v} % 2 == 0:", f"    {v} = {v} // 2", "else:", f"    {v} = 3 * {v} + 1"], v, "int"
    if r == 6:
        return ["steps = 0", f"m = abs({v}) % 1000", f"while m > {k}:", f"    m -= {k}", "    steps += 1"], "steps", "int"
    if r == 7:
        return [f"s = str({v}) * 2"], "s", "str"
    return [f"digits = [int(d) for d in str(abs({v}))]"], "digits", "list"


STEPS = {"str": str_step, "strlist": strlist_step, "list": list_step, "int": int_step}


def make_function(rng: random.Random) -> tuple[str, tuple]:
    """(source of `def f(...)`, argument tuple)."""
    kind = rng.choice(("str", "str", "list", "list", "int"))
    extra = None
    if kind == "str":
        name = rng.choice(("text", "s", "string", "word"))
        args: tuple = (_text(rng),)
        if rng.random() < 0.3:
            extra = rng.choice(("ch", "char"))
            args += (rng.choice(args[0] + "aeiou"),)
    elif kind == "list":
        name = rng.choice(("nums", "arr", "values", "items", "data"))
        args = (_nums(rng),)
        if rng.random() < 0.3:
            extra = "k"
            args += (rng.randint(2, 6),)
    else:
        name = rng.choice(("n", "x", "num", "value"))
        args = (rng.randint(1, 999) if rng.random() < 0.7 else rng.randint(-50, 50),)
    lines, var, typ = [], name, kind
    for _ in range(rng.randint(1, 3)):
        new, var, typ = STEPS[typ](rng, var, extra)
        lines += new
        if typ in ("dict",):
            break
    if extra and not any(extra in line for line in lines):
        extra, args = None, args[:1]  # the second parameter ended up unused: drop it
    params = [name] + ([extra] if extra else [])
    body = "\n".join("    " + line for line in lines + [f"return {var}"])
    return f"def f({', '.join(params)}):\n{body}", args


TRIVIAL = ("0", "''", "[]", "{}", "-1", "1", "[0]", "None", "False", "True")


def synth_code_rows(seed: int, n: int) -> list[dict]:
    rng = make_rng(seed, "synth-code")
    rows, seen = [], set()
    while len(rows) < n:
        code, args = make_function(rng)
        try:
            out = run_function(code, args)
        except Exception:  # e.g. max() of an empty list: skip, like a failed test case
            continue
        answer = repr(out)
        if len(answer) > 60 or code in seen:
            continue
        if answer in TRIVIAL and rng.random() < 0.8:
            continue  # keep a few empty/zero outputs (CRUXEval has some), but not a glut
        seen.add(code)
        problem = PROMPT.format(code=code, inputs=", ".join(repr(a) for a in args))
        rows.append({"id": f"SynthCode-{len(rows):04d}", "problem": problem,
                     "gt_solution": answer, "gt_answer": answer})
    return rows


# -- the basic tier: one-line functions on one digit ----------------------------------------------
# The same arithmetic as the basic word problems (tier 1 of the math ladder), on a new surface: a
# one-line Python function and a call. A model whose math post-training carries over to code
# should solve some of these while the CRUXEval-shaped pipelines above stay out of reach.
BASIC_BODIES = ("x + {k}", "x - {k}", "x * {k}", "{k} + x")


def synth_code_basic_rows(seed: int, n: int) -> list[dict]:
    """min(n, 288) distinct (function, input) pairs: the whole space is that small, and a test
    set that repeated a problem would understate its standard error."""
    rng = make_rng(seed, "synth-code-basic")
    space = [(body, k, x) for body in BASIC_BODIES for k in range(1, 10) for x in range(1, 10)
             if not (body == "x - {k}" and k > x)]
    rng.shuffle(space)
    rows = []
    for body, k, x in space[:n]:
        code = f"def f(x):\n    return {body.format(k=k)}"
        answer = repr(run_function(code, (x,)))  # executed, never reasoned out, as above
        rows.append({"id": f"SynthCodeBasic-{len(rows):04d}", "problem": PROMPT.format(code=code, inputs=repr(x)),
                     "gt_solution": answer, "gt_answer": answer})
    return rows
