#pragma once
// One row per layer × head of the Session's trace with what the head mostly does (share of
// weight on the previous token, on itself, on the first token; mean entropy), sortable and
// filterable; a checkbox switches a head off; double-click focuses it.

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QWidget>
#include <set>
#include <utility>
#include <vector>

#include "attn/analysis.h"
#include "views/session_view.h"

class QLabel;
class QLineEdit;
class QTableView;

namespace attn::ui {

class Session;

/// Rows = the Session's head summaries of the first stack; Qt::UserRole gives numbers for
/// sorting.
class HeadSummaryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { On, Layer, Head, PreviousToken, Self, FirstToken, Entropy, ColumnCount };

    explicit HeadSummaryModel(QObject* parent = nullptr);

    void setSummaries(std::vector<attn::HeadSummary> summaries,
                      const std::vector<std::pair<int, int>>& disabled);
    void setFocusedHead(int layer, int head);
    const attn::HeadSummary& summary(int row) const {
        return m_rows.at(static_cast<std::size_t>(row));
    }
    bool isEnabled(int layer, int head) const { return !m_disabled.count({layer, head}); }
    std::vector<std::pair<int, int>> disabledHeads() const {
        return {m_disabled.begin(), m_disabled.end()};
    }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

signals:
    /// The user ticked or unticked "on" of a head.
    void disabledHeadsEdited(const std::vector<std::pair<int, int>>& disabled);

private:
    std::vector<attn::HeadSummary> m_rows;
    std::set<std::pair<int, int>> m_disabled;
    int m_focusLayer = -1, m_focusHead = -1;
};

/// Filter text, terms separated by commas or "and": "layer 2", "head 1", "prev > 0.5",
/// "self 0.3" (at least), "entropy < 1", "first >= 0.4", "on", "off". Layers and heads count
/// from 1, as shown.
class HeadSummaryFilter : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit HeadSummaryFilter(QObject* parent = nullptr);
    /// Returns false (and keeps every row) when the text cannot be read; see error().
    bool setFilterText(const QString& text);
    QString error() const { return m_error; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    struct Condition {
        int column = 0;  // HeadSummaryModel::Column
        char op = '=';   // '=', '<', '>', 'l' (≤), 'g' (≥)
        double value = 0;
    };
    std::vector<Condition> m_conditions;
    QString m_error;
};

class HeadSummaryView : public SessionView {
    Q_OBJECT
public:
    explicit HeadSummaryView(Session* session, QWidget* parent = nullptr);

    void setFilterText(const QString& text);
    QTableView* table() const { return m_table; }
    HeadSummaryModel* model() const { return m_model; }
    HeadSummaryFilter* proxy() const { return m_proxy; }
    /// Switches a head on or off as the checkbox does.
    void setHeadEnabled(int layer, int head, bool on);

private:
    void refresh(int parts) override;
    void refreshFocus();
    void applyFilter();

    HeadSummaryModel* m_model = nullptr;
    HeadSummaryFilter* m_proxy = nullptr;
    QTableView* m_table = nullptr;
    QLineEdit* m_filter = nullptr;
    QLabel* m_caption = nullptr;
    QLabel* m_filterError = nullptr;
};

}  // namespace attn::ui
