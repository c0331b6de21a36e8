"""One lot's bids compared: pairs, shared rare strings and typos, mixed-up files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from monitoring.similarity import settings
from monitoring.similarity.hashing import (
    _groups,
    _member,
    estimate,
    gapped_hashes,
    shingle_hashes,
    shingles,
    signature,
)
from monitoring.similarity.settings import COMMON_MIN_BIDS, MAX_EXAMPLES, MIN_NEEDLE, PERMUTATIONS, SEED, K
from monitoring.similarity.text import normalise

_USCC = re.compile(r"^[0-9a-hj-npqrtuwxy]{2}\d{6}[0-9a-hj-npqrtuwxy]{10}$")


@dataclass(frozen=True)
class PairSimilarity:
    """Two bids compared. `jaccard` is exact, after template and common-boilerplate removal."""

    a: str
    b: str
    jaccard: float
    minhash_estimate: float
    shared_rare: list[str]  # longest strings found in these two bids only (not in the template)
    identical: bool  # the normalised texts are equal (and not empty)
    jaccard_raw: float = 0.0  # exact Jaccard before any removal
    containment: float = 0.0  # shared / the smaller bid's shingles, after removal
    shared: int = 0  # shingles the two bids share after removal


@dataclass(frozen=True)
class SharedTypo:
    """A short string found only in bids a and b, set in text known elsewhere: a shared deviation."""

    a: str
    b: str
    text: str  # TYPO_WINDOW characters of a's normalised text, the odd one in the middle
    context: str  # the string with its surroundings in a's normalised text
    expected: str = ""  # the same window as the template or a third bid writes it


@dataclass(frozen=True)
class Mention:
    """Mixed-up files: the text of party a's bid names party b."""

    a: str
    b: str
    needle: str  # what was found (normalised)
    kind: str  # "name" or "uscc"
    count: int
    snippet: str


@dataclass
class LotSimilarity:
    pairs: list[PairSimilarity] = field(default_factory=list)  # most similar first
    typos: list[SharedTypo] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    signatures: dict[str, np.ndarray] = field(default_factory=dict)  # MinHash per party, after removal
    skipped: list[str] = field(default_factory=list)  # parties without text
    k: int = K

    def pair(self, a: str, b: str) -> PairSimilarity | None:
        for p in self.pairs:
            if {p.a, p.b} == {a, b}:
                return p
        return None

    def typos_of(self, a: str, b: str) -> list[SharedTypo]:
        return [t for t in self.typos if {t.a, t.b} == {a, b}]


def lot_similarity(
    texts: dict[str, str],
    template: str | None = None,
    names: dict[str, list[str]] | None = None,
    *,
    k: int = K,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
    max_examples: int = MAX_EXAMPLES,
) -> LotSimilarity:
    """Compare every pair of bids of a lot; `texts` maps a party key to its bid's text."""
    normed = {p: normalise(t[: settings.MAX_TEXT]) for p, t in texts.items() if t}
    keys = sorted(p for p, t in normed.items() if t)
    out = LotSimilarity(skipped=sorted(set(texts) - set(keys)), k=k)
    norms = [normed[p] for p in keys]
    tmpl_norm = normalise(template or "")
    out.mentions = _mentions(keys, norms, names or {}, tmpl_norm)
    n = len(keys)
    if n < 2:
        return out
    pos = [shingle_hashes(t, k) for t in norms]  # a hash per position of each text
    per_doc = [_groups(h)[:2] for h in pos]  # (distinct hashes, position → distinct index)
    sizes = np.array([u.size for u, _ in per_doc])
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    flat = np.concatenate([u for u, _ in per_doc])
    doc_of = np.repeat(np.arange(n), sizes)
    # every distinct shingle of the lot, and in how many bids it appears
    uniq, inv, counts, order, starts = _groups(flat)
    pos_u = [inv[off + local] for off, (_, local) in zip(offsets, per_doc, strict=True)]  # position → uniq
    in_tmpl = _member(uniq, shingles(template, k)) if tmpl_norm else np.zeros(uniq.size, bool)
    common = (counts * 2 > n) & (counts >= COMMON_MIN_BIDS)
    keep = ~(in_tmpl | common)

    def gram(mask_e: np.ndarray) -> np.ndarray:
        """Shared shingle counts of every pair (the diagonal: each bid's own), over the masked shingles."""
        indptr = np.r_[0, np.cumsum(np.bincount(doc_of[mask_e], minlength=n))]
        x = sparse.csr_matrix((np.ones(indptr[-1], np.int32), inv[mask_e], indptr), shape=(n, uniq.size))
        return (x @ x.T).toarray()

    g_raw = gram(np.ones(flat.size, bool))
    g = gram(keep[inv])
    kept_sets = [u[keep[inv[off : off + u.size]]] for off, (u, _) in zip(offsets, per_doc, strict=True)]
    sigs = [signature(s, permutations, seed) for s in kept_sets]
    out.signatures = dict(zip(keys, sigs, strict=True))
    two = np.flatnonzero((counts == 2) & ~in_tmpl)  # rare: in exactly two bids, not in the template
    d1, d2 = doc_of[order[starts[two]]], doc_of[order[starts[two] + 1]]
    lo = np.full(uniq.size, -1, dtype=np.int64)
    hi = np.full(uniq.size, -1, dtype=np.int64)
    lo[two], hi[two] = np.minimum(d1, d2), np.maximum(d1, d2)
    rare, partners = _rare_runs(pos_u, norms, lo, hi, k, max_examples)
    typos = _typos(partners, norms, tmpl_norm, k, max_examples)
    for i in range(n):
        for j in range(i + 1, n):
            inter, da, db = int(g[i, j]), int(g[i, i]), int(g[j, j])
            union, raw_union = da + db - inter, int(g_raw[i, i] + g_raw[j, j] - g_raw[i, j])
            out.pairs.append(
                PairSimilarity(
                    a=keys[i],
                    b=keys[j],
                    jaccard=inter / union if union else 0.0,
                    minhash_estimate=estimate(sigs[i], sigs[j]),
                    shared_rare=rare.get((i, j), []),
                    identical=norms[i] == norms[j],
                    jaccard_raw=int(g_raw[i, j]) / raw_union if raw_union else 0.0,
                    containment=inter / min(da, db) if min(da, db) else 0.0,
                    shared=inter,
                )
            )
    out.pairs.sort(key=lambda p: (-p.jaccard, -p.jaccard_raw, p.a, p.b))
    out.typos = [SharedTypo(keys[i], keys[j], text, ctx, expected) for i, j, text, ctx, expected in typos]
    return out


def _rare_runs(pos_u, norms, lo, hi, k, max_examples):
    """Maximal runs of rare shingles (in exactly bids lo[u] and hi[u]) through each text, per pair.

    Returns ({(i, j): [longest strings]}, per text: the other bid holding the shingle at each position
    when the shingle is rare and that bid comes later, else −1).
    """
    examples: dict[tuple[int, int], list[str]] = {}
    partners = []
    for i, (u, text) in enumerate(zip(pos_u, norms, strict=True)):
        partner = np.where(lo[u] == i, hi[u], lo[u])  # the other bid holding a rare shingle, or -1
        partner = np.where(partner > i, partner, -1)  # each pair once, from the lower bid's side
        partners.append(partner)
        if not (partner >= 0).any():
            continue
        edges = np.flatnonzero(np.diff(partner)) + 1
        run_starts = np.r_[0, edges]
        run_ends = np.r_[edges, partner.size]  # exclusive, in shingle positions
        sel = partner[run_starts] >= 0
        run_starts, run_ends = run_starts[sel], run_ends[sel]
        for j in np.unique(partner[run_starts]):
            mine = partner[run_starts] == j
            rs, re_ = run_starts[mine], run_ends[mine]
            order = np.lexsort((rs, -(re_ - rs)))
            seen: list[str] = []
            for s, e in zip(rs[order], re_[order], strict=True):
                piece = text[s : e - 1 + k]
                if piece not in seen:
                    seen.append(piece)
                if len(seen) >= max_examples:
                    break
            examples[(i, int(j))] = [p if len(p) <= 120 else p[:119] + "…" for p in seen]
    return examples, partners


def _typos(partners, norms, tmpl_norm, k, max_examples):
    """Shared typos: a character c of bid i whose centred k-shingle is found in bid j only (rare), while
    the TYPO_WINDOW characters around it, c left out, occur in the template or in a third bid — there,
    with another character (else that shingle would not be rare). Digits and numerals are skipped (a
    shared number is not a misspelling). Returns [(i, j, window text, context, the variant elsewhere)].
    """
    w = settings.TYPO_WINDOW
    h, kc = w // 2, k // 2
    docs = [*norms, tmpl_norm]
    per_doc = [_groups(gapped_hashes(t, w))[:2] for t in docs]
    sizes = np.array([u.size for u, _ in per_doc])
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    _, inv, counts, _, _ = _groups(np.concatenate([u for u, _ in per_doc]))
    out, per_pair = [], {}
    for i, (partner, text) in enumerate(zip(partners, norms, strict=True)):
        gap = counts[inv[offsets[i] + per_doc[i][1]]]  # in how many texts each gapped window occurs
        lo_c, hi_c = max(kc, h), min(partner.size - 1 + kc, gap.size - 1 + h)
        if hi_c < lo_c:
            continue
        centres = np.arange(lo_c, hi_c + 1)
        hit = (partner[centres - kc] >= 0) & (gap[centres - h] >= 3)  # i, j and a third text
        last = -2
        for c in centres[hit]:
            ch, j = text[c], int(partner[c - kc])
            if not ch.isalpha() or ch.isnumeric() or c - last <= 1 or per_pair.get((i, j), 0) >= max_examples:
                last = c if c - last <= 1 else last
                continue
            last = c
            # the variant: any match elsewhere has another letter, or this shingle would not be rare
            found = re.compile(re.escape(text[c - h : c]) + "." + re.escape(text[c + 1 : c + h + 1]), re.S)
            others = (tmpl_norm, *(norms[x] for x in range(len(norms)) if x not in (i, j)))
            expected = next((m.group(0) for t in others if (m := found.search(t))), "")
            per_pair[(i, j)] = per_pair.get((i, j), 0) + 1
            out.append((i, j, text[c - h : c + h + 1], text[max(0, c - 20) : c + 21], expected))
    return out


def _mentions(keys, norms, names, tmpl_norm) -> list[Mention]:
    """Bid text of party a naming party b (a name or USCC of b), outside a's own names and the template."""
    needles = {p: {normalise(x) for x in xs if x} for p, xs in names.items()}
    needles = {
        p: sorted((x for x in xs if len(x) >= MIN_NEEDLE), key=lambda x: (-len(x), x))
        for p, xs in needles.items()
    }
    out = []
    for a, text in zip(keys, norms, strict=True):
        own = needles.get(a, [])
        masked = text
        for nd in own:  # a's own names may contain b's name ("X集团" vs "X"): blank them first
            masked = masked.replace(nd, "\x00" * len(nd))
        for b in sorted(needles):
            if b == a:
                continue
            for nd in needles[b]:
                if nd in own or (tmpl_norm and nd in tmpl_norm):
                    continue
                at = masked.find(nd)
                if at < 0:
                    continue
                snippet = text[max(0, at - 30) : at + len(nd) + 30]
                kind = "uscc" if _USCC.match(nd) else "name"
                out.append(Mention(a, b, nd, kind, masked.count(nd), snippet))
                break  # one mention per (a, b): the longest needle found
    return out
