#include "views/compare_view.h"

#include <QComboBox>
#include <QGridLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "session/session.h"
#include "views/cell_explain.h"
#include "views/heads_common.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

namespace {
// Picker data: layer · 1000 + head, within the stack the session focuses.
int pack(int layer, int head) { return layer * 1000 + head; }
}  // namespace

CompareView::CompareView(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Trace | SessionChange::Focus | SessionChange::Appearance,
                  parent) {
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(8, 6, 8, 6);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Show"), this));
    m_what = new QComboBox(this);
    m_what->addItem(tr("weights (after softmax)"), QStringLiteral("weights"));
    m_what->addItem(tr("scores (before softmax)"), QStringLiteral("scaled"));
    top->addWidget(m_what);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    top->addWidget(m_note, 1);
    v->addLayout(top);
    auto* grid = new QGridLayout;
    for (int s = 0; s < 2; ++s) {
        m_pick[s] = new QComboBox(this);
        m_pick[s]->setObjectName(QStringLiteral("comparePicker%1").arg(s));
        m_maps[s] = new HeatmapView(this);
        m_maps[s]->setObjectName(QStringLiteral("compareHeatmap%1").arg(s));
        auto* row = new QHBoxLayout;
        row->addWidget(new QLabel(s == 0 ? tr("Left head") : tr("Right head"), this));
        row->addWidget(m_pick[s], 1);
        grid->addLayout(row, 0, s);
        grid->addWidget(m_maps[s], 1, s);
        connect(m_pick[s], &QComboBox::currentIndexChanged, this, [this] { redraw(); });
        connect(m_maps[s], &HeatmapView::cellClicked, this, [this](int r, int c) {
            m_session->setQuery(r);
            m_session->setKey(c);
        });
    }
    grid->setRowStretch(1, 1);
    v->addLayout(grid, 1);
    connect(m_what, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
}

void CompareView::refresh(int) {
    rebuildPickers();
    redraw();
}

void CompareView::rebuildPickers() {
    const Session::Focus& f = m_session->focus();
    const int layers = m_session->layerCount(f.decoder);
    const AttentionTrace* b = m_session->block(0, f.decoder, f.cross);
    const int heads = b ? static_cast<int>(b->heads.size()) : 0;
    const QString key =
        QStringLiteral("%1/%2/%3/%4").arg(layers).arg(heads).arg(f.decoder).arg(f.cross);
    if (key == m_pickerKey) return;
    m_pickerKey = key;
    for (int s = 0; s < 2; ++s) {
        const QSignalBlocker block(m_pick[s]);
        const int old = m_pick[s]->currentData().isValid() ? m_pick[s]->currentData().toInt() : -1;
        m_pick[s]->clear();
        for (int l = 0; l < layers; ++l)
            for (int h = 0; h < heads; ++h)
                m_pick[s]->addItem(tr("Layer %1 · head %2").arg(l + 1).arg(h + 1), pack(l, h));
        int idx = m_pick[s]->findData(old);
        // By default: the first head on the left, the next one on the right.
        if (idx < 0) idx = std::min(s, m_pick[s]->count() - 1);
        m_pick[s]->setCurrentIndex(idx);
    }
}

void CompareView::redraw() {
    const TracePtr trace = m_session->trace();
    const Session::Focus& f = m_session->focus();
    const bool weights = m_what->currentData().toString() == QStringLiteral("weights");
    m_note->setText(withAlteredNotice(f.cross     ? tr("Decoder cross-attention heads")
                                      : f.decoder ? tr("Decoder self-attention heads")
                                                  : QString(),
                                      *m_session));
    for (int s = 0; s < 2; ++s) {
        HeatmapView* map = m_maps[s];
        map->setFontScale(m_session->fontScale());
        map->setShowNumbers(m_session->showNumbers());
        const QVariant d = m_pick[s]->currentData();
        if (!trace || !d.isValid()) {
            map->setMatrix(Mat(), {}, {});
            map->setTitle(QString());
            continue;
        }
        const int layer = d.toInt() / 1000, head = d.toInt() % 1000;
        if (layer >= m_session->layerCount(f.decoder)) continue;
        const AttentionTrace* b = m_session->block(layer, f.decoder, f.cross);
        if (!b || head >= static_cast<int>(b->heads.size())) continue;
        // The scaled scores may have been dropped from the trace: the session keeps them.
        const std::shared_ptr<const HeadTrace> detail =
            weights ? nullptr : m_session->headDetail(layer, head, f.decoder, f.cross);
        const Mat& m = weights ? b->heads[head].weights : detail->scaled;
        if (weights) {
            map->setColorMap(m_session->colorMap());
            map->setRange(0, 1);
        } else {
            map->clearRange();
            map->setColorMap(ColorMapKind::Diverging);
        }
        map->setTitle(tr("Layer %1 · head %2").arg(layer + 1).arg(head + 1));
        map->setAxisTitles(tr("query"), tr("key"));
        map->setMatrix(m, m_session->queryLabels(), m_session->keyLabels());
        map->setHighlight(f.query, f.key);
    }
}

}  // namespace attn::ui
