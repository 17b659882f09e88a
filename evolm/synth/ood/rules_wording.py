"""How SynthRules problems are worded: the prompt, the animals and their names, the relations
between animals, and the templates of rules and conclusions (after BoardgameQA's own wording).

Kept apart from `rules.py`, which builds and solves the problems, so the language can be read and
changed in one place; the order of every tuple is part of the seeded draws.
"""

PROMPT_HEAD = ('Solve the following problem. Your final answer should be "True", "False", or '
               '"Uncertain".\n\nA few players are playing a boardgame. The current state of the '
               'game is as follows. ')
QUESTION = "Based on the game state and the rules and preferences, does the {s} {base}?"

# (third person singular, base form); {o} is the object animal.
RELATIONS = (
    ("hugs the {o}", "hug the {o}"), ("dances with the {o}", "dance with the {o}"),
    ("trades one of its pieces with the {o}", "trade one of its pieces with the {o}"),
    ("stops the victory of the {o}", "stop the victory of the {o}"),
    ("refuses to help the {o}", "refuse to help the {o}"), ("wants to see the {o}", "want to see the {o}"),
    ("captures the king of the {o}", "capture the king of the {o}"),
    ("pays money to the {o}", "pay money to the {o}"), ("shouts at the {o}", "shout at the {o}"),
    ("borrows one of the weapons of the {o}", "borrow one of the weapons of the {o}"),
    ("builds a power plant near the green fields of the {o}", "build a power plant near the green fields of the {o}"),
    ("smiles at the {o}", "smile at the {o}"),
    ("tears down the castle that belongs to the {o}", "tear down the castle that belongs to the {o}"),
    ("surrenders to the {o}", "surrender to the {o}"),
    ("knocks down the fortress of the {o}", "knock down the fortress of the {o}"),
    ("respects the {o}", "respect the {o}"), ("unites with the {o}", "unite with the {o}"),
    ("raises a peace flag for the {o}", "raise a peace flag for the {o}"),
    ("sings a victory song for the {o}", "sing a victory song for the {o}"),
    ("owes money to the {o}", "owe money to the {o}"),
    ("becomes an enemy of the {o}", "become an enemy of the {o}"),
    ("brings an oil tank for the {o}", "bring an oil tank for the {o}"),
    ("swears to the {o}", "swear to the {o}"), ("falls on a square of the {o}", "fall on a square of the {o}"),
    ("acquires a photograph of the {o}", "acquire a photograph of the {o}"),
    ("destroys the wall constructed by the {o}", "destroy the wall constructed by the {o}"),
    ("manages to convince the {o}", "manage to convince the {o}"),
    ("reveals a secret to the {o}", "reveal a secret to the {o}"),
    ("suspects the truthfulness of the {o}", "suspect the truthfulness of the {o}"),
    ("gives a magnifier to the {o}", "give a magnifier to the {o}"),
    ("takes over the emperor of the {o}", "take over the emperor of the {o}"),
    ("negotiates a deal with the {o}", "negotiate a deal with the {o}"),
    ("prepares armor for the {o}", "prepare armor for the {o}"), ("winks at the {o}", "wink at the {o}"),
    ("invests in the company whose owner is the {o}", "invest in the company whose owner is the {o}"),
    ("enjoys the company of the {o}", "enjoy the company of the {o}"), ("calls the {o}", "call the {o}"),
    ("disarms the {o}", "disarm the {o}"), ("neglects the {o}", "neglect the {o}"),
    ("leaves the houses occupied by the {o}", "leave the houses occupied by the {o}"),
    ("attacks the green fields whose owner is the {o}", "attack the green fields whose owner is the {o}"),
)
ANIMALS = tuple("""aardvark ant badger bat bear beaver bee bison bulldog butterfly camel canary cat
caterpillar cheetah chihuahua chinchilla cockroach cougar cow coyote crab crocodile crow dachshund
dalmatian dinosaur dog dolphin donkey dove dragon dragonfly duck eagle eel elephant elk finch
flamingo fox frog gadwall gecko giraffe goat goldfish gorilla grasshopper hare hippopotamus
hummingbird husky jaguar jellyfish kangaroo kiwi koala kudu leopard liger lion lizard llama lobster
lynx meerkat mermaid mink monkey moose mosquito mouse mule octopus ostrich otter owl panther parrot
peafowl pelikan penguin pig pigeon poodle puffin rabbit raven reindeer rhino salmon seahorse seal
shark sheep shrimp sloth snail snake songbird spider squid squirrel starfish starling swan
swordfish tiger tilapia toucan turkey turtle unicorn vulture walrus wasp whale wolf wolverine
woodpecker worm zebra""".split())
PET_NAMES = ("Max", "Lucy", "Buddy", "Bella", "Charlie", "Pablo", "Tango", "Lola", "Milo", "Luna",
             "Cinnamon", "Chickpea", "Teddy", "Tarzan", "Beauty", "Meadow", "Paco", "Pashmak",
             "Lily", "Casper", "Blossom", "Bubbles", "Peddi", "Tessa", "Mojo", "Cookie",
             "Jackson", "Oreo", "Pippin", "Rocky", "Sparky", "Tuppence", "Zelda", "Ginger")

# Rule wordings, after BoardgameQA's. {s}: the concluding animal; {third}/{base}: the concluded
# relation ("hugs the dove" / "hug the dove"); {concl}: a full conclusion clause.
ATTR_POS = ("The {s} will {base} if it (the {s}) {cond}.",
            "Regarding the {s}, if it {cond}, then we can conclude that it {third}.",
            "Here is an important piece of information about the {s}: if it {cond} then it {third} "
            "for sure.")
ATTR_NEG = ("The {s} will not {base} if it (the {s}) {cond}.",
            "Regarding the {s}, if it {cond}, then we can conclude that it does not {base}.",
            "Here is an important piece of information about the {s}: if it {cond} then it does "
            "not {base} for sure.")
ONE = ("If the {a} {lit}, then {concl}.",
       "One of the rules of the game is that if the {a} {lit}, then {concl}.",
       "{concl}, in the case where the {a} {lit}.")
TWO = ("If the {a} {lit1} and the {b} {lit2}, then {concl}.",
       "If the {a} {lit1} and the {b} {lit2}, then {concl}.",
       "For the {s}, if the belief is that the {a} {lit1} and the {b} {lit2}, then you can add "
       "\"{claim}\" to your conclusions.")
EXISTS = ("There exists an animal which {vp}? Then {concl}.",
          "If at least one animal {vp}, then {concl}.",
          "If there is evidence that one animal, no matter which one, {vp}, then {concl}.")
VAR1_POS = ("If you are positive that one of the animals {vp}, you can be certain that it will "
            "{base} without a doubt.",
            "From observing that one animal {vp}, one can conclude that it {third}.",
            "If something {vp}, then it {third}, too.")
VAR1_NEG = ("If you are positive that you saw one of the animals {vp}, you can be certain that it "
            "will not {base}.",
            "From observing that one animal {vp}, one can conclude the following: that animal "
            "does not {base}.",
            "If something {vp}, then it does not {base}.")
VAR2 = ("Be careful when something {vp1} and also {vp2} because in this case it will surely "
        "{surely}{base} (this may or may not be problematic).",
        "If you see that something {vp1} and {vp2}, what can you certainly conclude? You can "
        "conclude that it {concl_vp}.",
        "Are you certain that one of the animals {vp1} and also {vp2}? Then you can also be "
        "certain that the same animal {concl_vp}.")
CONCL_POS = ("{c} {third}", "{c} will {base}", "{c}, inevitably, {third}",
             "{c} will, without hesitation, {base}", "{c} unquestionably {third}",
             "{c} definitely {third}")
CONCL_NEG = ("{c} does not {base}", "{c} will never {base}", "{c} will not {base}",
             "{c} is not going to {base}", "{c} definitely does not {base}")
