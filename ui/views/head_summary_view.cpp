#include "views/head_summary_view.h"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QRegularExpression>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

#include "session/session.h"
#include "views/heads_common.h"

namespace attn::ui {

namespace {

float valueOf(const attn::HeadSummary& s, int column) {
    switch (column) {
        case HeadSummaryModel::PreviousToken:
            return s.previous_token;
        case HeadSummaryModel::Self:
            return s.self;
        case HeadSummaryModel::FirstToken:
            return s.first_token;
        case HeadSummaryModel::Entropy:
            return s.entropy;
        default:
            return 0.0f;
    }
}

/// Draws a share (0..1) as a bar behind its number, so a column can be read at a glance.
class ShareBarDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        const double v = std::clamp(index.data(Qt::UserRole).toDouble(), 0.0, 1.0);
        QRectF bar = QRectF(option.rect).adjusted(2, 3, -2, -3);
        bar.setWidth(bar.width() * v);
        painter->save();
        painter->setPen(Qt::NoPen);
        painter->setBrush(QColor(70, 130, 200, 70));
        painter->drawRect(bar);
        painter->restore();
        QStyledItemDelegate::paint(painter, option, index);
    }
};

}  // namespace

// --- model -----------------------------------------------------------------------------------

HeadSummaryModel::HeadSummaryModel(QObject* parent) : QAbstractTableModel(parent) {}

void HeadSummaryModel::setSummaries(std::vector<attn::HeadSummary> summaries,
                                    const std::vector<std::pair<int, int>>& disabled) {
    const bool sameShape = summaries.size() == m_rows.size() &&
                           std::equal(summaries.begin(), summaries.end(), m_rows.begin(),
                                      [](const auto& a, const auto& b) {
                                          return a.layer == b.layer && a.head == b.head;
                                      });
    if (!sameShape) beginResetModel();
    m_rows = std::move(summaries);
    m_disabled = {disabled.begin(), disabled.end()};
    if (!sameShape) {
        endResetModel();
    } else if (!m_rows.empty()) {
        // Same heads, new numbers: keep the selection and the scroll position.
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    }
}

void HeadSummaryModel::setFocusedHead(int layer, int head) {
    if (layer == m_focusLayer && head == m_focusHead) return;
    m_focusLayer = layer;
    m_focusHead = head;
    if (!m_rows.empty())
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1), {Qt::FontRole});
}

int HeadSummaryModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int HeadSummaryModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HeadSummaryModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount()) return {};
    const attn::HeadSummary& s = m_rows[static_cast<std::size_t>(index.row())];
    const int col = index.column();
    const bool on = isEnabled(s.layer, s.head);
    switch (role) {
        case Qt::CheckStateRole:
            if (col == On) return on ? Qt::Checked : Qt::Unchecked;
            return {};
        case Qt::DisplayRole:
            switch (col) {
                case On:
                    return {};
                case Layer:
                    return s.layer + 1;
                case Head:
                    return s.head + 1;
                case Entropy:
                    return QString::number(s.entropy, 'f', 2);
                default:
                    return QString::number(valueOf(s, col), 'f', 2);
            }
        case Qt::UserRole:  // sort key
            switch (col) {
                case On:
                    return on ? 1 : 0;
                case Layer:
                    return s.layer * 10000 + s.head;  // layer, then head
                case Head:
                    return s.head * 10000 + s.layer;
                default:
                    return static_cast<double>(valueOf(s, col));
            }
        case Qt::TextAlignmentRole:
            return col == On ? QVariant(Qt::AlignCenter)
                             : QVariant(Qt::AlignRight | Qt::AlignVCenter);
        case Qt::FontRole:
            if (s.layer == m_focusLayer && s.head == m_focusHead) {
                QFont f;
                f.setBold(true);
                return f;
            }
            return {};
        case Qt::ForegroundRole:
            if (!on && col != On) return QColor(140, 140, 140);
            return {};
        case Qt::ToolTipRole:
            switch (col) {
                case On:
                    return on ? tr("Layer %1, head %2 is on. Untick to zero its output and see "
                                   "what changes.")
                                    .arg(s.layer + 1)
                                    .arg(s.head + 1)
                              : tr("Layer %1, head %2 is switched off: its output is zero.")
                                    .arg(s.layer + 1)
                                    .arg(s.head + 1);
                case PreviousToken:
                    return tr("Mean weight a token puts on the token just before it");
                case Self:
                    return tr("Mean weight a token puts on itself");
                case FirstToken:
                    return tr("Mean weight on the first token (a common resting place)");
                case Entropy:
                    return tr(
                        "Mean entropy of a row in nats: 0 = looks at one token, "
                        "higher = spreads out");
                default:
                    return tr("Double-click to look at this head");
            }
        default:
            return {};
    }
}

bool HeadSummaryModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || index.column() != On || role != Qt::CheckStateRole) return false;
    const attn::HeadSummary& s = m_rows[static_cast<std::size_t>(index.row())];
    const bool on = static_cast<Qt::CheckState>(value.toInt()) == Qt::Checked;
    if (on == isEnabled(s.layer, s.head)) return true;
    if (on)
        m_disabled.erase({s.layer, s.head});
    else
        m_disabled.insert({s.layer, s.head});
    emit dataChanged(this->index(index.row(), 0), this->index(index.row(), ColumnCount - 1));
    emit disabledHeadsEdited(disabledHeads());
    return true;
}

Qt::ItemFlags HeadSummaryModel::flags(const QModelIndex& index) const {
    if (!index.isValid()) return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.column() == On) f |= Qt::ItemIsUserCheckable;
    return f;
}

QVariant HeadSummaryModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
            case On:
                return tr("On");
            case Layer:
                return tr("Layer");
            case Head:
                return tr("Head");
            case PreviousToken:
                return tr("Previous");
            case Self:
                return tr("Self");
            case FirstToken:
                return tr("First");
            case Entropy:
                return tr("Entropy");
            default:
                return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
            case PreviousToken:
                return tr("Share of attention on the previous token");
            case Self:
                return tr("Share of attention on the token itself");
            case FirstToken:
                return tr("Share of attention on the first token");
            case Entropy:
                return tr("Mean row entropy (nats)");
            default:
                return {};
        }
    }
    return {};
}

// --- filter ----------------------------------------------------------------------------------

HeadSummaryFilter::HeadSummaryFilter(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(Qt::UserRole);
}

bool HeadSummaryFilter::setFilterText(const QString& text) {
    static const QRegularExpression split(QStringLiteral("\\s*(?:,|;|\\band\\b)\\s*"),
                                          QRegularExpression::CaseInsensitiveOption);
    // "<name> [op] <number>", e.g. "layer 2", "prev>0.5", "entropy <= 1.2", "self 0.3"
    static const QRegularExpression term(
        QStringLiteral("^([a-z][a-z\\- "
                       "]*?)\\s*(<=|>=|=<|=>|==|=|<|>|≤|≥)?\\s*(-?\\d+(?:\\.\\d*)?|-?\\.\\d+)$"),
        QRegularExpression::CaseInsensitiveOption);
    std::vector<Condition> conditions;
    QString error;
    for (const QString& raw : text.split(split, Qt::SkipEmptyParts)) {
        const QString t = raw.trimmed().toLower();
        if (t.isEmpty()) continue;
        if (t == QLatin1String("on") || t == QLatin1String("off")) {
            conditions.push_back({HeadSummaryModel::On, '=', t == QLatin1String("on") ? 1.0 : 0.0});
            continue;
        }
        const QRegularExpressionMatch m = term.match(t);
        if (!m.hasMatch()) {
            error = tr("Cannot read “%1”. Try: layer 2, head 1, prev > 0.5, entropy < 1, off.")
                        .arg(raw.trimmed());
            break;
        }
        const QString name = m.captured(1).trimmed();
        const QString op = m.captured(2);
        const double value = m.captured(3).toDouble();
        Condition c;
        c.value = value;
        if (name == QLatin1String("layer") || name == QLatin1String("l"))
            c.column = HeadSummaryModel::Layer;
        else if (name == QLatin1String("head") || name == QLatin1String("h"))
            c.column = HeadSummaryModel::Head;
        else if (name.startsWith(QLatin1String("prev")))
            c.column = HeadSummaryModel::PreviousToken;
        else if (name == QLatin1String("self"))
            c.column = HeadSummaryModel::Self;
        else if (name.startsWith(QLatin1String("first")))
            c.column = HeadSummaryModel::FirstToken;
        else if (name.startsWith(QLatin1String("ent")))
            c.column = HeadSummaryModel::Entropy;
        else {
            error =
                tr("Unknown column “%1”: use layer, head, prev, self, first or entropy.").arg(name);
            break;
        }
        const bool index =
            c.column == HeadSummaryModel::Layer || c.column == HeadSummaryModel::Head;
        if (op.isEmpty())
            c.op = index ? '=' : 'g';  // "prev 0.5" = at least 0.5
        else if (op == QLatin1String("<"))
            c.op = '<';
        else if (op == QLatin1String(">"))
            c.op = '>';
        else if (op == QLatin1String("<=") || op == QLatin1String("=<") ||
                 op == QStringLiteral("≤"))
            c.op = 'l';
        else if (op == QLatin1String(">=") || op == QLatin1String("=>") ||
                 op == QStringLiteral("≥"))
            c.op = 'g';
        else
            c.op = '=';
        conditions.push_back(c);
    }
    m_error = error;
    if (!error.isEmpty()) conditions.clear();
    m_conditions = std::move(conditions);
    invalidateFilter();
    return error.isEmpty();
}

bool HeadSummaryFilter::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    auto* model = qobject_cast<const HeadSummaryModel*>(sourceModel());
    if (!model || m_conditions.empty()) return true;
    (void)sourceParent;
    const attn::HeadSummary& s = model->summary(sourceRow);
    for (const Condition& c : m_conditions) {
        double v = 0;
        switch (c.column) {
            case HeadSummaryModel::On:
                v = model->isEnabled(s.layer, s.head) ? 1 : 0;
                break;
            case HeadSummaryModel::Layer:
                v = s.layer + 1;
                break;
            case HeadSummaryModel::Head:
                v = s.head + 1;
                break;
            default:
                v = valueOf(s, c.column);
                break;
        }
        bool ok = true;
        switch (c.op) {
            case '<':
                ok = v < c.value;
                break;
            case '>':
                ok = v > c.value;
                break;
            case 'l':
                ok = v <= c.value;
                break;
            case 'g':
                ok = v >= c.value;
                break;
            default:
                ok = std::abs(v - c.value) < 1e-6;
                break;
        }
        if (!ok) return false;
    }
    return true;
}

// --- view ------------------------------------------------------------------------------------

HeadSummaryView::HeadSummaryView(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Trace | SessionChange::Focus, parent) {
    m_model = new HeadSummaryModel(this);
    m_proxy = new HeadSummaryFilter(this);
    m_proxy->setSourceModel(m_model);

    m_caption = new QLabel(this);
    m_caption->setWordWrap(true);
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter, e.g. layer 2 · prev > 0.5 · entropy < 1 · off"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setToolTip(
        tr("Terms separated by commas: layer N, head N, prev/self/first/entropy "
           "with <, >, <=, >= and a number (a number alone means “at least”), "
           "on, off"));
    m_filterError = new QLabel(this);
    m_filterError->setStyleSheet(QStringLiteral("color: #b3261e;"));
    m_filterError->setWordWrap(true);
    m_filterError->hide();

    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(HeadSummaryModel::Layer, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->setAlternatingRowColors(true);
    m_table->setToolTip(tr("Double-click a row to look at that head"));
    auto* bars = new ShareBarDelegate(m_table);
    for (int c :
         {HeadSummaryModel::PreviousToken, HeadSummaryModel::Self, HeadSummaryModel::FirstToken})
        m_table->setItemDelegateForColumn(c, bars);
    QHeaderView* header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Stretch);
    for (int c : {HeadSummaryModel::On, HeadSummaryModel::Layer, HeadSummaryModel::Head})
        header->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    header->setMinimumSectionSize(44);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_caption);
    layout->addWidget(m_filter);
    layout->addWidget(m_filterError);
    layout->addWidget(m_table, 1);

    connect(m_filter, &QLineEdit::textChanged, this, &HeadSummaryView::applyFilter);
    connect(m_model, &HeadSummaryModel::disabledHeadsEdited, this,
            [this](const std::vector<std::pair<int, int>>& disabled) {
                if (m_session) m_session->setDisabledHeads(disabled);
            });
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        if (!m_session || !index.isValid()) return;
        const attn::HeadSummary& s = m_model->summary(m_proxy->mapToSource(index).row());
        m_session->setHead(s.layer, s.head);
    });
    refreshNow();
}

void HeadSummaryView::refreshFocus() {
    const Session::Focus& f = m_session->focus();
    m_model->setFocusedHead(f.decoder ? -1 : f.layer, f.decoder ? -1 : f.head);
}

void HeadSummaryView::setFilterText(const QString& text) { m_filter->setText(text); }

void HeadSummaryView::setHeadEnabled(int layer, int head, bool on) {
    for (int r = 0; r < m_model->rowCount(); ++r) {
        const attn::HeadSummary& s = m_model->summary(r);
        if (s.layer == layer && s.head == head) {
            m_model->setData(m_model->index(r, HeadSummaryModel::On),
                             on ? Qt::Checked : Qt::Unchecked, Qt::CheckStateRole);
            return;
        }
    }
}

void HeadSummaryView::applyFilter() {
    const bool ok = m_proxy->setFilterText(m_filter->text());
    m_filterError->setText(m_proxy->error());
    m_filterError->setVisible(!ok);
}

void HeadSummaryView::refresh(int parts) {
    if (!(parts & SessionChange::Trace)) {
        if (m_session) refreshFocus();
        return;
    }
    const attn::TracePtr trace = m_session ? m_session->trace() : nullptr;
    if (!trace || trace->layers.empty()) {
        m_model->setSummaries({}, {});
        m_caption->setText(tr("No trace yet."));
        return;
    }
    m_model->setSummaries(m_session->headSummaries(false), m_session->disabledHeads());
    refreshFocus();
    const int layers = static_cast<int>(trace->layers.size());
    const int heads =
        layers ? static_cast<int>(trace->layers.front().self_attention.heads.size()) : 0;
    const int off = static_cast<int>(m_session->disabledHeads().size());
    const bool seq2seq = !trace->decoder_layers.empty();
    QString text = tr("%1 layers × %2 heads%3. Untick “On” to switch a head off; double-click to "
                      "look at it.")
                       .arg(layers)
                       .arg(heads)
                       .arg(seq2seq ? tr(" of the encoder") : QString());
    m_caption->setText(off > 0 ? withAlteredNotice(text, *m_session) : text);
}

}  // namespace attn::ui
