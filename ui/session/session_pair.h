#pragma once
// Two runs side by side (issue 16): run A (the window's session) and run B (a second session that
// starts as a copy of A). The pair links their focus, so stepping, clicking a cell or choosing a
// head on either side acts on both, and caches the difference B − A of the matrix in focus
// (computed by attn::diffMatrices, once per change of either side). May include: common, engine,
// qt, session.

#include <QObject>
#include <QString>
#include <QStringList>
#include <optional>
#include <vector>

#include "attn/compare.h"
#include "session/session.h"

namespace attn::ui {

/// The difference of the focused head, with what a view shows beside it (SessionPair::HeadDiff).
/// At namespace scope, not nested: clang then sees it complete when std::optional asks whether
/// it is default-constructible.
struct PairHeadDiff {
    bool valid = false;
    QString why;    ///< why there is no difference (valid = false): "B has 5 tokens, A 6"
    QString title;  ///< "B − A · layer 1 · head 2 · weights"
    attn::MatrixDiff diff;
    std::vector<attn::RowChange> rows;  ///< weights only: per-row entropy and arg-max change
    QStringList rowLabels;              ///< query tokens (A's)
    QStringList colLabels;              ///< key tokens (A's)
};

class SessionPair : public QObject {
    Q_OBJECT
public:
    /// Which matrix of the focused head the difference compares.
    enum class Matrix { Weights, Scores, Scaled, Output };

    /// The difference of the focused head, with what a view shows beside it.
    using HeadDiff = PairHeadDiff;

    /// Links a and b (neither is owned). b is not touched until copyAToB().
    SessionPair(Session* a, Session* b, QObject* parent = nullptr);

    Session* a() const { return m_a; }
    Session* b() const { return m_b; }

    /// B becomes a copy of A's run: the same model object (shared, never copied), text, target,
    /// attention knobs, heads switched off and focus. Runs B at once.
    void copyAToB();

    void setMatrix(Matrix m);
    Matrix matrix() const { return m_matrix; }
    static QString matrixName(Matrix m);

    /// B − A of the focused head's matrix (cached until either run or the focus changes).
    const HeadDiff& focusedDiff() const;

    /// What B changes against A, in a few words ("no ÷√d_k", "mask causal → none"); empty when
    /// the two runs are set up alike.
    QString whatDiffers() const;

signals:
    /// Once per user action on either side, after both sides have followed (focus or trace):
    /// the difference may have changed.
    void changed();

private:
    void onChanged(Session* from, const SessionChange& change);
    // Moves to's focus onto from's: the same step (by id when both traces have it), layer, head,
    // query and key, each clamped to to's trace.
    void follow(Session* from, Session* to);

    Session* m_a;
    Session* m_b;
    bool m_syncing = false;  // a side is following the other: its own change is not passed back
    Matrix m_matrix = Matrix::Weights;
    mutable std::optional<HeadDiff> m_diff;
};

}  // namespace attn::ui
