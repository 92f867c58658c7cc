#include "session/session_pair.h"

#include <QScopedValueRollback>

namespace attn::ui {

SessionPair::SessionPair(Session* a, Session* b, QObject* parent)
    : QObject(parent), m_a(a), m_b(b) {
    connect(m_a, &Session::changed, this, [this](const SessionChange& c) { onChanged(m_a, c); });
    connect(m_b, &Session::changed, this, [this](const SessionChange& c) { onChanged(m_b, c); });
}

void SessionPair::copyAToB() {
    {
        const QScopedValueRollback guard(m_syncing, true);
        m_b->setColorMap(m_a->colorMap());
        m_b->setFontScale(m_a->fontScale());
        m_b->setShowNumbers(m_a->showNumbers());
        m_b->setSyncTokenLimit(m_a->syncTokenLimit());
        m_b->setTargetText(m_a->targetText());
        m_b->setText(m_a->text());
        // The same model object: a second run never copies weights.
        if (m_b->model() != m_a->model()) m_b->setModel(m_a->model());
        m_b->setRunOptions(m_a->runOptions());
        m_b->runNow();
        m_b->waitForIdle();
    }
    follow(m_a, m_b);
    m_diff.reset();
    emit changed();
}

void SessionPair::onChanged(Session* from, const SessionChange& change) {
    if (m_syncing) return;
    if (change.has(SessionChange::Trace)) {
        // A new trace on either side (a run, a clamp): B takes A's focus where it can. A's focus
        // never moves because B's text is shorter or B has fewer layers.
        follow(m_a, m_b);
    } else if (change.has(SessionChange::Focus)) {
        follow(from, from == m_a ? m_b : m_a);
    }
    if (change.has(SessionChange::Trace | SessionChange::Focus)) {
        m_diff.reset();
        emit changed();
    }
}

void SessionPair::follow(Session* from, Session* to) {
    const QScopedValueRollback guard(m_syncing, true);
    const Session::Focus& f = from->focus();
    int step = f.step;
    // The same step by its id ("L0.self.weights"): with and without a mask, or with another
    // number of layers, the indices of the steps differ.
    if (const attn::Step* s = from->currentStep(); s && to->trace()) {
        const auto& steps = to->trace()->steps;
        for (std::size_t i = 0; i < steps.size(); ++i)
            if (steps[i].id == s->id) {
                step = static_cast<int>(i);
                break;
            }
    }
    // Each setter clamps to to's own trace.
    to->setStep(step);
    to->setHead(f.layer, f.head, f.decoder, f.cross);
    to->setQuery(f.query);
    to->setKey(f.key);
}

void SessionPair::setMatrix(Matrix m) {
    if (m == m_matrix) return;
    m_matrix = m;
    m_diff.reset();
    emit changed();
}

QString SessionPair::matrixName(Matrix m) {
    switch (m) {
        case Matrix::Weights:
            return tr("weights");
        case Matrix::Scores:
            return tr("scores");
        case Matrix::Scaled:
            return tr("scaled scores");
        case Matrix::Output:
            return tr("head output");
    }
    return {};
}

const SessionPair::HeadDiff& SessionPair::focusedDiff() const {
    if (m_diff) return *m_diff;
    m_diff.emplace();
    HeadDiff& d = *m_diff;
    const Session::Focus& f = m_a->focus();
    const Session::Focus& g = m_b->focus();
    if (!m_a->trace() || !m_b->trace()) {
        d.why = tr("One of the runs has no result yet.");
        return d;
    }
    if (f.layer != g.layer || f.head != g.head || f.decoder != g.decoder || f.cross != g.cross) {
        d.why = tr("Run B has no layer %1, head %2.").arg(f.layer + 1).arg(f.head + 1);
        return d;
    }
    // Weights through headWeights (a big trace keeps only some layers' weights); the other
    // matrices need every intermediate.
    std::shared_ptr<const attn::HeadTrace> ha, hb;
    if (m_matrix == Matrix::Weights) {
        ha = m_a->headWeights(f.layer, f.head, f.decoder, f.cross);
        hb = m_b->headWeights(g.layer, g.head, g.decoder, g.cross);
    } else {
        ha = m_a->headDetail(f.layer, f.head, f.decoder, f.cross);
        hb = m_b->headDetail(g.layer, g.head, g.decoder, g.cross);
    }
    if (!ha || !hb) {
        d.why = tr("The head in focus is missing from one of the runs.");
        return d;
    }
    auto pick = [this](const attn::HeadTrace& h) -> const attn::Mat& {
        switch (m_matrix) {
            case Matrix::Scores:
                return h.scores;
            case Matrix::Scaled:
                return h.scaled;
            case Matrix::Output:
                return h.output;
            case Matrix::Weights:
                break;
        }
        return h.weights;
    };
    const attn::Mat& ma = pick(*ha);
    const attn::Mat& mb = pick(*hb);
    if (ma.rows() != mb.rows() || ma.cols() != mb.cols()) {
        d.why = tr("The %1 differ in shape: A is %2×%3, B is %4×%5 (another sentence or model).")
                    .arg(matrixName(m_matrix))
                    .arg(ma.rows())
                    .arg(ma.cols())
                    .arg(mb.rows())
                    .arg(mb.cols());
        return d;
    }
    d.diff = attn::diffMatrices(ma, mb, 10);
    if (m_matrix == Matrix::Weights) d.rows = attn::weightRowChanges(ma, mb);
    d.valid = d.diff.same_shape;
    d.rowLabels = m_a->queryLabels();
    d.colLabels = m_matrix == Matrix::Output ? QStringList() : m_a->keyLabels();
    d.title = tr("B − A · layer %1 · head %2 · %3")
                  .arg(f.layer + 1)
                  .arg(f.head + 1)
                  .arg(matrixName(m_matrix));
    return d;
}

QString SessionPair::whatDiffers() const {
    QStringList parts;
    if (m_a->model() != m_b->model()) {
        auto name = [](const Session* s) {
            return s->model() ? QString::fromStdString(s->model()->config.name) : QString();
        };
        parts << (name(m_a) == name(m_b) ? tr("another model")
                                         : tr("model %1 → %2").arg(name(m_a), name(m_b)));
    }
    if (m_a->text() != m_b->text()) parts << tr("another sentence");
    if (m_a->targetText() != m_b->targetText()) parts << tr("another target");
    const attn::AttentionKnobs& ka = m_a->attention();
    const attn::AttentionKnobs& kb = m_b->attention();
    if (ka.scale != kb.scale) parts << (kb.scale ? tr("with ÷√d_k") : tr("no ÷√d_k"));
    if (ka.mask != kb.mask)
        parts << tr("mask %1 → %2")
                     .arg(QString::fromStdString(attn::toString(ka.mask)),
                          QString::fromStdString(attn::toString(kb.mask)));
    if (ka.score != kb.score)
        parts << tr("score %1 → %2")
                     .arg(QString::fromStdString(attn::toString(ka.score)),
                          QString::fromStdString(attn::toString(kb.score)));
    if (ka.temperature != kb.temperature)
        parts << tr("temperature %1 → %2").arg(ka.temperature).arg(kb.temperature);
    if (ka.projection != kb.projection)
        parts << tr("projection %1 → %2")
                     .arg(QString::fromStdString(attn::toString(ka.projection)),
                          QString::fromStdString(attn::toString(kb.projection)));
    if (m_a->disabledHeads() != m_b->disabledHeads()) {
        const auto n = m_b->disabledHeads().size();
        parts << (n == 0 ? tr("every head on") : tr("%n head(s) switched off", nullptr, int(n)));
    }
    return parts.join(QStringLiteral(", "));
}

}  // namespace attn::ui
