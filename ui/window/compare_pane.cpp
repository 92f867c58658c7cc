#include "window/compare_pane.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "session/session.h"
#include "session/session_pair.h"
#include "views/head_grid.h"
#include "views/lines_view.h"
#include "views/step_view.h"
#include "views/value_sums_view.h"
#include "window/controls_panel.h"
#include "window/model_actions.h"

namespace attn::ui {

ComparePane::ComparePane(SessionPair* pair, QWidget* parent) : QWidget(parent), m_pair(pair) {
    setObjectName(QStringLiteral("comparePane"));
    Session* b = pair->b();
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(2);

    m_header = new QLabel(this);
    m_header->setObjectName(QStringLiteral("compareHeader"));
    m_header->setTextFormat(Qt::PlainText);
    m_header->setWordWrap(true);
    // The header may shrink below its text: two panes must fit a 1024-pixel projector.
    m_header->setMinimumWidth(1);
    m_header->setContentsMargins(6, 2, 6, 0);
    QFont bold = m_header->font();
    bold.setBold(true);
    m_header->setFont(bold);
    v->addWidget(m_header);
    // The buttons head B's controls in the left dock: beside B's tabs they would squeeze the
    // tabs of a third-of-the-window pane, and a row of their own would cost a stacked pane its
    // picture's height.
    m_controlsBox = new QWidget;
    m_controlsBox->setObjectName(QStringLiteral("controlsBoxB"));
    auto* box = new QVBoxLayout(m_controlsBox);
    box->setContentsMargins(0, 0, 0, 0);
    box->setSpacing(2);
    auto* buttons = new QWidget(m_controlsBox);
    auto* top = new QHBoxLayout(buttons);
    top->setContentsMargins(6, 2, 6, 2);
    top->setSpacing(4);
    // The model menu of run B (the window's Model menu acts on run A).
    m_modelActions = new ModelActions(b, this);
    m_modelActions->setUntrainedConfig(pair->a()->config());
    m_model = new QToolButton(buttons);
    m_model->setObjectName(QStringLiteral("compareModel"));
    m_model->setText(tr("Model of B"));
    m_model->setToolTip(tr("Run B with another model (run A keeps its own)"));
    m_model->setPopupMode(QToolButton::InstantPopup);
    m_model->setMenu(m_modelActions->menu());
    top->addWidget(m_model);
    m_reset = new QPushButton(tr("Copy A"), buttons);
    m_reset->setObjectName(QStringLiteral("compareReset"));
    m_reset->setToolTip(tr("Set run B up exactly as run A again"));
    top->addWidget(m_reset);
    m_close = new QPushButton(tr("Close comparison"), buttons);
    m_close->setObjectName(QStringLiteral("compareClose"));
    m_close->setToolTip(tr("Close the comparison (Ctrl+Shift+B)"));
    top->addWidget(m_close);
    top->addStretch(1);
    box->addWidget(buttons);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("compareTabs"));
    m_tabs->setDocumentMode(true);
    m_step = new StepView(b);
    m_lines = new LinesView(b);
    m_heads = new HeadGrid(b);
    m_values = new ValueSumsView(b);
    auto add = [this](QWidget* w, const QString& title) {
        auto* host = new QScrollArea(m_tabs);
        host->setWidgetResizable(true);
        host->setFrameShape(QFrame::NoFrame);
        host->setWidget(w);
        m_tabs->addTab(host, title);
    };
    add(m_step, tr("Step by step"));
    add(m_lines, tr("Lines"));
    add(m_heads, tr("Heads"));
    add(m_values, tr("Values"));
    v->addWidget(m_tabs, 1);

    m_controls = new ControlsPanel(b, this);
    m_controls->setObjectName(QStringLiteral("controlsB"));
    m_controlsScroll = new QScrollArea;
    m_controlsScroll->setObjectName(QStringLiteral("controlsScrollB"));
    m_controlsScroll->setWidget(m_controls);
    m_controlsScroll->setWidgetResizable(true);
    m_controlsScroll->setFrameShape(QFrame::NoFrame);
    m_controlsScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_controlsScroll->setMinimumWidth(m_controls->minimumSizeHint().width() +
                                      m_controlsScroll->verticalScrollBar()->sizeHint().width());
    m_controlsScroll->setMinimumHeight(120);
    box->addWidget(m_controlsScroll, 1);
    // An example sentence of B that wants a model opens it for B only.
    connect(m_controls, &ControlsPanel::modelRequested, this, [this](const QString& spec) {
        if (spec == QLatin1String("untrained"))
            m_modelActions->useUntrained();
        else
            m_modelActions->load(spec);
    });
    connect(m_modelActions, &ModelActions::modelLoaded, m_controls,
            &ControlsPanel::syncFromSession);
    connect(m_reset, &QPushButton::clicked, this, [this] {
        m_pair->copyAToB();
        m_controls->syncFromSession();
        m_controls->setSourceText(m_pair->b()->text());
        m_controls->setTargetText(m_pair->b()->targetText());
    });
    connect(m_close, &QPushButton::clicked, this, &ComparePane::closeRequested);
    connect(m_pair, &SessionPair::changed, this, &ComparePane::updateHeader);
    connect(b, &Session::changed, this, [this](const SessionChange& c) {
        if (c.has(SessionChange::Model | SessionChange::Trace)) updateHeader();
    });
    m_controls->syncFromSession();
    m_controls->setTargetText(b->targetText());
    m_controls->setSourceText(b->text());
    updateHeader();
}

void ComparePane::followTab(const QString& title) {
    for (int i = 0; i < m_tabs->count(); ++i)
        if (m_tabs->tabText(i) == title) {
            m_tabs->setCurrentIndex(i);
            return;
        }
}

void ComparePane::setDifferenceTab(QWidget* diff) {
    if (diff == m_diffTab) return;
    if (m_diffTab) {
        const int i = m_tabs->indexOf(m_diffTab);
        if (i >= 0) m_tabs->removeTab(i);
    }
    m_diffTab = diff;
    if (diff) m_tabs->addTab(diff, tr("B − A"));
}

QWidget* ComparePane::currentFigure() const {
    const QWidget* host = m_tabs->currentWidget();
    if (host == m_step->parentWidget()->parentWidget()) return m_step->exportTarget();
    if (host == m_lines->parentWidget()->parentWidget()) return m_lines->canvas();
    if (host == m_values->parentWidget()->parentWidget()) return m_values->exportTarget();
    return m_heads;
}

void ComparePane::updateHeader() {
    const QString d = m_pair->whatDiffers();
    const QString text =
        d.isEmpty() ? tr("Run B — as run A; change any control of B") : tr("Run B — %1").arg(d);
    m_header->setText(text);
    m_header->setToolTip(text);
}

}  // namespace attn::ui
