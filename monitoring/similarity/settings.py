"""The defaults of document similarity (see the package docstring)."""

K = 5  # shingle length in characters
PERMUTATIONS = 128  # MinHash hash functions
SEED = 20_240_505  # MinHash seed: signatures are comparable only under the same seed and count
MAX_TEXT = 2_000_000  # characters kept per document
MAX_PAGES = 2_000  # PDF pages read per document
COMMON_MIN_BIDS = 3  # a shingle is common boilerplate if in > half of the bids and in at least this many
MAX_EXAMPLES = 5  # shared rare strings kept per pair
TYPO_WINDOW = 7  # a shared typo: one character differing from text found elsewhere in the same 7-window
MIN_NEEDLE = 4  # shortest name searched for mixed-up files (normalised characters)

SUGGESTED = {
    "identical_jaccard": 0.5,  # 条例40(4) 异常一致: statutory finding at or above (after template removal)
    "similar_jaccard": 0.25,  # a non-statutory, weighted indicator at or above
    "shared_typos_min": 1,  # shared typos per pair for the `shared_typos` indicator
}
