"""A small hand-written sentiment lexicon for the rule-based detectors and behavioural templates.

Deliberately short and review-specific: it only has to find *where* sentiment sits, not to classify.
"""

POSITIVE = frozenset(
    """
good great excellent wonderful brilliant amazing superb fantastic outstanding terrific masterpiece
beautiful beautifully lovely enjoyable enjoyed fun funny hilarious gripping moving touching charming
delightful impressive perfect perfectly best favorite favourite loved love likeable memorable stunning
powerful compelling fascinating entertaining clever witty smart solid strong recommend recommended
worth worthwhile engaging riveting refreshing remarkable exceptional flawless gem classic awesome nice
""".split()
)

NEGATIVE = frozenset(
    """
bad awful terrible horrible dreadful boring bored dull poor poorly worst waste wasted stupid dumb
lame weak mediocre pathetic ridiculous annoying painful disappointing disappointed disappointment mess
garbage trash rubbish unwatchable laughable tedious predictable pointless cheesy clumsy bland forgettable
unfunny awkward hated hate ugly sloppy amateurish incoherent nonsense lousy inept atrocious crap
overrated slow confusing shallow flat wooden
""".split()
)

NEGATORS = frozenset("not no never n't hardly barely scarcely nothing neither nor without cannot".split())


def polarity(word: str) -> int:
    """+1, -1 or 0 for one lower-cased word."""
    w = word.lower()
    return 1 if w in POSITIVE else -1 if w in NEGATIVE else 0
