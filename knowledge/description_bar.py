"""The bar a description clears to answer unasked: when how a paste describes an error is enough.

A description (``knowledge/describe.py``) is the weakest evidence the matcher has. Its winner
answers only when the paste speaks of Azure Backup (or a message or symptom reading of the
same entry agrees), nothing else in the paste reads as an unrelated error, no near-tied twin is
left untold, and it leads the entries that are not its kin with enough of the paste's rare words;
otherwise the reading is a "did you mean". ``judge`` says which, and why not.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.describe import TWIN_TIE, DescriptionIndex, Reading
from knowledge.evidence import Evidence, Paste, inside
from knowledge.model import Entry

__all__ = ["Verdict", "description_evidence", "judge"]

DESCRIBE_ANSWER = 86.0  # a confident description clears ANSWER_SCORE (85), below any symptom
DESCRIBE_SUGGEST = (56.0, 80.0)  # an unsure one: a "did you mean", scored by its lead
MIN_RARE = 3  # distinct rare words a confident answer needs in agreement ...
MIN_RARE_AGREED = 2  # ... or these, when a message or symptom reading names the same entry
LEAD = 1.35  # the winner's score over the best unrelated runner-up's
LEAD_AGREED = 1.0  # none when a message or symptom reading names the winner: two agree
# A paste that says several of the winner's own headline words (its code's, title's, messages'
# or symptoms' words, not only those of its causes) names the error more than it paraphrases
# it: a smaller lead will do.
MIN_HEADLINE = 4  # distinct rare words of the paste among the winner's headline words ...
LEAD_HEADLINE = 1.1  # ... and the lead that then suffices
MIN_SCORE = 20.0  # below this a winner shares too little with any entry to answer
CONFLICT = 70.0  # a message or symptom reading of another entry this strong: only suggest
SHOWN = 3  # readings returned: the winner and two runners-up
HEARD = 55.0  # readings below a "did you mean" neither agree nor conflict

# Entries that belong to no one workload: any named workload may meet them.
_ANY_WORKLOAD = frozenset({"generic", "arm", "vault", "restore"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a description reading is worth: the entries in order, and whether the first answers."""

    ranked: list[tuple[Entry, float]]
    sure: bool
    why_not: tuple[str, ...]  # what kept it a suggestion ("context", "lead", "conflict"...)


def description_evidence(
    index: DescriptionIndex, paste: Paste, others: list[Evidence]
) -> list[Evidence]:
    """Description readings of the paste: the winner (maybe confident) and its runners-up."""
    reading = index.read(paste)
    if reading is None:
        return []
    verdict = judge(index, reading, others)
    ranked = verdict.ranked
    lo, hi = DESCRIBE_SUGGEST
    top = ranked[0][1]
    if verdict.sure:
        first = DESCRIBE_ANSWER
    else:
        first = lo + (hi - lo) * min(1.0, (reading.lead - 1) / (LEAD - 1))
    out = []
    seen: set[str] = set()
    for rank, (entry, score) in enumerate(ranked[:SHOWN]):
        if entry.code in seen:
            continue
        seen.add(entry.code)
        # Runners-up come after the winner, however narrow its lead.
        value = first if rank == 0 else min(first - 1, lo + (hi - lo) * 0.5 * score / top)
        out.append(Evidence(entry, entry.code, "description", value, reading.span))
    return out


def judge(index: DescriptionIndex, reading: Reading, others: list[Evidence]) -> Verdict:
    """Whether the reading's winner answers unasked. ``others`` are the paste's other readings:
    a message or symptom of the same entry (or its kin) lowers the bar; a code of another entry,
    or a message or symptom of an unrelated one scoring ``CONFLICT`` or more, keeps the
    description a suggestion."""
    ranked, untold = reading.ranked, reading.untold
    win = index.index[ranked[0][0].code]
    said: dict[int, float] = {}  # what the paste's message and symptom readings name
    spans: dict[int, list[tuple[int, int]]] = {}  # and where
    conflict = False
    for ev in others:
        j = index.index.get(ev.entry.code)
        if j is None or ev.score < HEARD:
            continue
        if ev.via in ("message", "symptom"):
            said[j] = max(said.get(j, 0.0), ev.score)
            spans.setdefault(j, []).append(ev.span)
        else:
            conflict |= j != win and not index.kin(win, j)
    # Between kin the description cannot tell apart (near-tied, of a workload the paste
    # allows), a message or symptom reading decides.
    kin = [j for j in said if j != win and index.kin(win, j)]
    near = {index.index[e.code] for e, sc in ranked if sc >= TWIN_TIE * ranked[0][1]}
    tied = [j for j in kin if j in near and index.fits_named(j, reading.named)]
    if tied:
        j = max(tied, key=lambda k: said[k])
        if said[j] >= CONFLICT and said[j] > said.get(win, 0.0):
            win = j
            ranked = [(index.entries[win], ranked[0][1]), *ranked]
            untold = False  # the reading told the twins apart
    agreed = win in said or bool(kin)
    # Where the paste's words read as the winner or its kin: a reading of a few of those words
    # ("job is already in progress" in "a recovery job is already in progress to the same
    # destination") is explained by the longer one, unless the description nearly ties its
    # entry with the winner too.
    explained = [s for j in said if j == win or index.kin(win, j) for s in spans[j]]
    # A reading of another entry, kin or not, that the description does not follow (not one
    # of another workload's own words than the paste names, a SQL message in a HANA paste:
    # compete sets it aside too).
    conflict |= any(
        score >= CONFLICT
        and j != win
        and score > said.get(win, 0.0)
        and index.fits_named(j, reading.named)
        and (j in near or not all(any(inside(a, b) for b in explained) for a in spans[j]))
        for j, score in said.items()
    )
    # A paste naming one workload is not answered unasked with another's error.
    other_workload = bool(reading.named) and not (
        index.fits[win] & {*reading.named, *_ANY_WORKLOAD}
    )
    # A message or symptom reading that agrees stands for the Azure words a bare description
    # needs; it is still the paste's own words, and still a backup paste.
    backed = reading.context or (agreed and reading.backupish and reading.trouble)
    lead = LEAD_AGREED if agreed else LEAD
    if (  # the winner's headline words are read only when they could lower the bar
        LEAD_HEADLINE <= reading.lead < lead
        and len(reading.rare_words) >= MIN_HEADLINE
        and len(reading.rare_words & index.headline(win)) >= MIN_HEADLINE
    ):
        lead = LEAD_HEADLINE
    checks = (
        # A paste about a failed backup is not answered with an error of restores.
        ("operation", reading.restore or not index.restores[win]),
        ("context", backed),
        ("conflict", not conflict),
        ("workload", not other_workload),
        ("twins", not untold),  # twins the paste cannot tell apart: suggest both
        ("score", ranked[0][1] >= MIN_SCORE),
        ("lead", reading.lead >= lead),
        ("rare", reading.rare >= (MIN_RARE_AGREED if agreed else MIN_RARE)),
    )
    why_not = tuple(name for name, ok in checks if not ok)
    return Verdict(ranked, not why_not, why_not)
