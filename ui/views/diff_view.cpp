#include "views/diff_view.h"

#include <QBoxLayout>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "session/session_pair.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

namespace {

QTableWidgetItem* item(const QString& text, bool number = false) {
    auto* it = new QTableWidgetItem(text);
    it->setFlags(it->flags() & ~Qt::ItemIsEditable);
    if (number) it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return it;
}

QString num(float v) { return QString::number(static_cast<double>(v), 'f', 3); }
QString signedNum(float v) { return (v > 0 ? QStringLiteral("+") : QString()) + num(v); }
QString label(const QStringList& l, int i) {
    if (i < 0) return QStringLiteral("—");
    return i < l.size() ? l[i] : QString::number(i + 1);
}

}  // namespace

DiffView::DiffView(SessionPair* pair, QWidget* parent) : QWidget(parent), m_pair(pair) {
    setObjectName(QStringLiteral("diffView"));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(6, 4, 6, 4);
    auto* top = new QHBoxLayout;
    auto* heading = new QLabel(tr("<b>Difference B − A</b>"), this);
    top->addWidget(heading);
    m_what = new QComboBox(this);
    m_what->setObjectName(QStringLiteral("diffMatrix"));
    for (SessionPair::Matrix m : {SessionPair::Matrix::Weights, SessionPair::Matrix::Scores,
                                  SessionPair::Matrix::Scaled, SessionPair::Matrix::Output})
        m_what->addItem(SessionPair::matrixName(m), static_cast<int>(m));
    m_what->setToolTip(tr("Which matrix of the head in focus to compare"));
    top->addWidget(m_what);
    top->addStretch(1);
    v->addLayout(top);
    m_note = new QLabel(this);
    m_note->setObjectName(QStringLiteral("diffNote"));
    m_note->setWordWrap(true);
    m_note->setTextFormat(Qt::PlainText);
    v->addWidget(m_note);

    m_map = new HeatmapView(this);
    m_map->setObjectName(QStringLiteral("diffHeatmap"));
    m_map->setColorMap(ColorMapKind::Diverging);
    m_map->setSymmetricRange(true);
    m_map->setColorBarLabel(tr("Δ = B − A"));
    m_map->setAxisTitles(tr("query"), tr("key"));
    // The picture and the lists: one above the other in a tall panel, side by side in a wide
    // one (the difference as a tab of a stacked 1024×768 pane), so the cells keep their height.
    m_body = new QBoxLayout(QBoxLayout::TopToBottom);
    m_body->addWidget(m_map, 3);
    v->addLayout(m_body, 1);

    m_lists = new QTabWidget(this);
    m_lists->setDocumentMode(true);
    m_changes = new QTableWidget(0, 4, this);
    m_changes->setObjectName(QStringLiteral("diffChanges"));
    m_changes->setHorizontalHeaderLabels({tr("Cell (query → key)"), tr("A"), tr("B"), tr("Δ")});
    m_rows = new QTableWidget(0, 5, this);
    m_rows->setObjectName(QStringLiteral("diffRows"));
    m_rows->setHorizontalHeaderLabels({tr("Query"), tr("Entropy A"), tr("Entropy B"),
                                       tr("Δ entropy"), tr("Looks most at A → B")});
    for (QTableWidget* t : {m_changes, m_rows}) {
        t->verticalHeader()->hide();
        // The cell's tokens take what the numbers leave: no sideways scrolling in a narrow pane.
        t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
        t->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
        t->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
        t->setSelectionBehavior(QAbstractItemView::SelectRows);
    }
    m_lists->addTab(m_changes, tr("Largest changes"));
    m_lists->addTab(m_rows, tr("Per query row"));
    m_body->addWidget(m_lists, 2);

    connect(m_what, &QComboBox::currentIndexChanged, this, [this] {
        m_pair->setMatrix(static_cast<SessionPair::Matrix>(m_what->currentData().toInt()));
    });
    connect(m_pair, &SessionPair::changed, this, &DiffView::onPairChanged);
    // A cell of the difference is a cell of both runs: the focus moves on both sides.
    connect(m_map, &HeatmapView::cellClicked, this, [this](int r, int c) {
        m_pair->a()->setQuery(r);
        m_pair->a()->setKey(c);
    });
    connect(m_changes, &QTableWidget::cellClicked, this, [this](int row, int) {
        const auto& d = m_pair->focusedDiff();
        if (!d.valid || row >= static_cast<int>(d.diff.largest.size())) return;
        m_pair->a()->setQuery(d.diff.largest[row].row);
        m_pair->a()->setKey(d.diff.largest[row].col);
    });
    refresh();
}

bool DiffView::pairValid() const { return m_pair->focusedDiff().valid; }

void DiffView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_dirty) refresh();
}

void DiffView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    const auto want =
        width() > height() * 13 / 10 ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom;
    if (m_body->direction() != want) m_body->setDirection(want);
}

void DiffView::onPairChanged() {
    m_dirty = true;
    if (isVisible()) refresh();
}

void DiffView::refresh() {
    m_dirty = false;
    Session* a = m_pair->a();
    m_map->setFontScale(a->fontScale());
    m_map->setShowNumbers(a->showNumbers());
    const SessionPair::HeadDiff& d = m_pair->focusedDiff();
    const QString differs = m_pair->whatDiffers();
    if (!d.valid) {
        m_note->setText(d.why);
        m_map->hide();
        m_changes->setRowCount(0);
        m_rows->setRowCount(0);
        return;
    }
    m_note->setText(differs.isEmpty()
                        ? tr("The two runs are set up alike: change a control of run B.")
                        : tr("B: %1 · largest |Δ| %2").arg(differs, num(d.diff.max_abs)));
    m_map->show();
    m_map->setMatrix(d.diff.delta, d.rowLabels, d.colLabels);
    m_map->setTitle(d.title);
    const Session::Focus& f = a->focus();
    m_map->setHighlight(f.query, d.colLabels.isEmpty() ? -1 : f.key);

    m_changes->setRowCount(static_cast<int>(d.diff.largest.size()));
    for (int i = 0; i < static_cast<int>(d.diff.largest.size()); ++i) {
        const attn::CellChange& c = d.diff.largest[static_cast<std::size_t>(i)];
        const QString cell =
            d.colLabels.isEmpty()
                ? tr("%1 · d%2").arg(label(d.rowLabels, c.row)).arg(c.col)
                : tr("%1 → %2").arg(label(d.rowLabels, c.row), label(d.colLabels, c.col));
        m_changes->setItem(i, 0, item(cell));
        m_changes->setItem(i, 1, item(num(c.a), true));
        m_changes->setItem(i, 2, item(num(c.b), true));
        m_changes->setItem(i, 3, item(signedNum(c.delta), true));
    }
    m_lists->setTabEnabled(1, !d.rows.empty());
    m_rows->setRowCount(static_cast<int>(d.rows.size()));
    for (int i = 0; i < static_cast<int>(d.rows.size()); ++i) {
        const attn::RowChange& r = d.rows[static_cast<std::size_t>(i)];
        m_rows->setItem(i, 0, item(label(d.rowLabels, r.row)));
        m_rows->setItem(i, 1, item(num(r.entropy_a), true));
        m_rows->setItem(i, 2, item(num(r.entropy_b), true));
        m_rows->setItem(i, 3, item(signedNum(r.entropyDelta()), true));
        QString moved = r.argmaxMoved() ? tr("%1 → %2").arg(label(d.colLabels, r.argmax_a),
                                                            label(d.colLabels, r.argmax_b))
                                        : tr("%1 (same)").arg(label(d.colLabels, r.argmax_a));
        QTableWidgetItem* it = item(moved);
        if (r.argmaxMoved()) {
            QFont bold = it->font();
            bold.setBold(true);
            it->setFont(bold);
        }
        m_rows->setItem(i, 4, it);
    }
}

}  // namespace attn::ui
