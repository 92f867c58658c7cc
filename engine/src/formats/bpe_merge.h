#pragma once
// The merge loop every BPE tokenizer here shares (GPT-2's byte-level BPE, SentencePiece-style
// BPE by merge rank or by piece score, llama2.c's): adjacent symbols in a linked list, the best
// candidate pair merged first, leftmost first among equals. Private to the engine.

#include <cstddef>
#include <optional>
#include <queue>
#include <string_view>
#include <vector>

namespace attn::detail {

/// SentencePiece's byte-fallback pieces: "<0xHH>" → HH, -1 for any other piece.
inline int bytePieceValue(std::string_view piece) {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    const int hi = hex(piece[3]);
    const int lo = hex(piece[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/// One symbol of a piece: a vocabulary id (-1 when it has none) and its byte span in the piece.
struct BpeSymbol {
    int id = -1;
    std::size_t begin = 0;
    std::size_t end = 0;
    bool mergeable = true;  ///< false for byte-fallback symbols, which never merge
};

/// What merging two neighbours gives: the merged id and its priority (lower merges first: a
/// merge rank, or minus a SentencePiece score).
struct BpeMerge {
    double priority = 0.0;
    int id = -1;
};

/// Merges symbols in place until no adjacent pair has a merge. lookup(left, right) returns the
/// merge of two adjacent symbols or nullopt. A merged symbol keeps the left one's slot, so the
/// result is in text order. O(n log n) with a heap; entries made stale by an earlier merge are
/// recognised by their spans and skipped. This equals "merge every occurrence of the best pair,
/// repeat" because a merge that uses a token ranks after the merge that made it.
template <class Lookup>
void bpeMerge(std::vector<BpeSymbol>& symbols, const Lookup& lookup) {
    const int n = static_cast<int>(symbols.size());
    if (n < 2) return;
    std::vector<int> next(static_cast<std::size_t>(n)), prev(static_cast<std::size_t>(n));
    std::vector<char> alive(static_cast<std::size_t>(n), 1);
    for (int k = 0; k < n; ++k) {
        prev[static_cast<std::size_t>(k)] = k - 1;
        next[static_cast<std::size_t>(k)] = k + 1 < n ? k + 1 : -1;
    }
    struct Cand {
        double priority;
        int left, right, id;
        std::size_t left_end, right_end;  // spans when pushed: a merged symbol grows
    };
    auto later = [](const Cand& a, const Cand& b) {
        return a.priority != b.priority ? a.priority > b.priority : a.left > b.left;
    };
    std::priority_queue<Cand, std::vector<Cand>, decltype(later)> heap(later);
    auto consider = [&](int l) {
        if (l < 0) return;
        const int r = next[static_cast<std::size_t>(l)];
        if (r < 0) return;
        const BpeSymbol& a = symbols[static_cast<std::size_t>(l)];
        const BpeSymbol& b = symbols[static_cast<std::size_t>(r)];
        if (!a.mergeable || !b.mergeable) return;
        const std::optional<BpeMerge> m = lookup(a, b);
        if (m) heap.push(Cand{m->priority, l, r, m->id, a.end, b.end});
    };
    for (int k = 0; k + 1 < n; ++k) consider(k);
    while (!heap.empty()) {
        const Cand c = heap.top();
        heap.pop();
        const auto l = static_cast<std::size_t>(c.left);
        const auto r = static_cast<std::size_t>(c.right);
        if (alive[l] == 0 || alive[r] == 0 || next[l] != c.right || symbols[l].end != c.left_end ||
            symbols[r].end != c.right_end)
            continue;
        symbols[l].id = c.id;
        symbols[l].end = symbols[r].end;
        next[l] = next[r];
        if (next[r] >= 0) prev[static_cast<std::size_t>(next[r])] = c.left;
        alive[r] = 0;
        consider(prev[l]);
        consider(c.left);
    }
    std::size_t out = 0;
    for (std::size_t k = 0; k < symbols.size(); ++k) {
        if (alive[k] != 0) symbols[out++] = symbols[k];
    }
    symbols.resize(out);
}

}  // namespace attn::detail
