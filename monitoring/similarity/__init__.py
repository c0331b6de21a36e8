"""Document similarity between the bids of one lot (issue 5 item 3; DOMAIN D1 条例40(4)(5)): pure, no I/O.

Pipeline, per lot:

1. `document_text` turns a bid document into text (PDF pages through pypdf, text files decoded as
   UTF-8 or GB18030); anything unreadable gives "" and never raises.
2. `normalise`: NFKC (full-width → half-width), lower case, whitespace collapsed, and dropped next to
   CJK characters (PDF extraction scatters spaces and line breaks through Chinese text).
3. Character k-shingles (k = 5 by default) hashed to 64 bits with a vectorised polynomial hash and a
   splitmix64 finaliser: deterministic (no Python `hash`), and the same for Chinese and Latin text.
4. Shingles of the tender documents (`template`) are removed, and so are shingles present in more than
   half of the bids (and in at least `COMMON_MIN_BIDS` of them): common boilerplate (standard forms,
   quoted law) says nothing about two bidders. Caveat: what a cartel holding most bids of a lot shares
   is then "common" too; `jaccard_raw` and `identical` keep such lots visible.
5. Exact Jaccard of every pair, from one sparse product of the bid × shingle incidence matrix (cheap
   at any lot size), and a MinHash estimate from seeded signatures (numpy, `PERMUTATIONS` hash
   functions (a·x + b) mod 2⁶⁴), which can be stored per bid to compare documents across lots.
6. Shared rare strings: shingles present in exactly two bids and absent from the template, merged into
   maximal runs (`PairSimilarity.shared_rare`, for display: in a two-bid lot it is all they share).
   Shared typos (`LotSimilarity.typos`) are stricter: a letter whose centred shingle only bids a and b
   have, while the 7 characters around it, that letter left out, occur in the template or a third bid
   with another letter there ("工期保正日历天" where the others write "工期保证日历天"). Numbers are not
   typos; a shared cut or junction of known texts is not one either (no odd letter).
7. Mixed-up files (条例40(5) "不同投标人的投标文件相互混装"): the text of bid a names party b (its name
   or USCC), with a snippet.

`SUGGESTED` thresholds for the rules are [G]uessed and checked on the synthetic market only (400
tenders): independent bids to one template, once it is removed, share stock phrases (Jaccard ≤ 0.16),
covers copied from the preparer with names and prices swapped keep 0.5–0.85.
"""

from __future__ import annotations

from monitoring.similarity.hashing import (
    estimate,
    gapped_hashes,
    jaccard,
    shingle_hashes,
    shingles,
    signature,
)
from monitoring.similarity.lot import LotSimilarity, Mention, PairSimilarity, SharedTypo, lot_similarity
from monitoring.similarity.settings import PERMUTATIONS, SEED, SUGGESTED, K
from monitoring.similarity.text import document_text, normalise

__all__ = [
    "PERMUTATIONS",
    "SEED",
    "SUGGESTED",
    "K",
    "LotSimilarity",
    "Mention",
    "PairSimilarity",
    "SharedTypo",
    "document_text",
    "estimate",
    "gapped_hashes",
    "jaccard",
    "lot_similarity",
    "normalise",
    "shingle_hashes",
    "shingles",
    "signature",
]
