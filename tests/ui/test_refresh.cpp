// One refresh per change: a keystroke rebuilds each visible view once and no hidden view; a
// hidden view rebuilds once when its tab is shown; a run tokenizes its text once.

#include <gtest/gtest.h>

#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTest>
#include <atomic>
#include <map>

#include "attn/model.h"
#include "session/session.h"
#include "views/head_grid.h"
#include "views/session_view.h"
#include "views/step_view.h"
#include "window/controls_panel.h"
#include "window/main_window.h"

using namespace attn::ui;

namespace {

struct NamedView {
    QString name;
    SessionView* view;
    int tab;  // -1 for the head grid's dock
};

class RefreshTest : public ::testing::Test {
protected:
    void SetUp() override {
        w = std::make_unique<MainWindow>(nullptr, /*persistent=*/false);
        w->show();
        ASSERT_TRUE(QTest::qWaitForWindowExposed(w.get()));
        s = w->session();
        s->waitForIdle();
        ASSERT_TRUE(s->trace()) << s->lastError().toStdString();
        // Every tab's view is built once (as if the user had looked at each), then the first
        // tab comes back to the front: the others are now hidden, built views.
        for (int i = 0; i < w->tabs()->count(); ++i) {
            w->tabs()->setCurrentIndex(i);
            QCoreApplication::processEvents();
        }
        w->tabs()->setCurrentIndex(0);
        s->waitForIdle();
        QCoreApplication::processEvents();
        views.push_back({QStringLiteral("Heads"), w->headGrid(), -1});
        for (int i = 0; i < w->tabs()->count(); ++i)
            if (auto* v = qobject_cast<SessionView*>(w->tabView(i)))
                views.push_back({w->tabs()->tabText(i), v, i});
        ASSERT_GE(views.size(), 10u) << "every view of the window keeps the refresh rule";
    }
    void TearDown() override { w.reset(); }

    std::map<SessionView*, int> counts() const {
        std::map<SessionView*, int> c;
        for (const NamedView& v : views) c[v.view] = v.view->rebuildCount();
        return c;
    }
    // Rebuilds of each view since `before`.
    std::map<SessionView*, int> since(const std::map<SessionView*, int>& before) const {
        std::map<SessionView*, int> d;
        for (const NamedView& v : views) d[v.view] = v.view->rebuildCount() - before.at(v.view);
        return d;
    }

    std::unique_ptr<MainWindow> w;
    Session* s = nullptr;
    std::vector<NamedView> views;
};

}  // namespace

TEST_F(RefreshTest, AKeystrokeRebuildsEachVisibleViewOnceAndNoHiddenView) {
    const auto before = counts();
    QSignalSpy changed(s, &Session::changed);
    QPlainTextEdit* e = w->controls()->sourceEdit();
    e->setFocus();
    e->moveCursor(QTextCursor::End);
    QTest::keyClicks(e, QStringLiteral("s"));  // "… the milks"
    s->waitForIdle();
    QCoreApplication::processEvents();
    ASSERT_EQ(s->trace()->text, "The black cat drank the milks");
    ASSERT_EQ(changed.count(), 1) << "one change per keystroke";
    EXPECT_TRUE(changed.first().at(0).value<SessionChange>().has(SessionChange::Trace));

    const auto d = since(before);
    for (const NamedView& v : views) {
        const bool visible = v.view->isVisible();
        EXPECT_EQ(visible, v.tab <= 0) << v.name.toStdString();
        EXPECT_EQ(d.at(v.view), visible ? 1 : 0)
            << v.name.toStdString() << (visible ? " (visible)" : " (hidden)");
    }
}

TEST_F(RefreshTest, AHiddenViewRebuildsOnceWhenShownAndOnlyIfSomethingItShowsChanged) {
    s->setText(QStringLiteral("A dog ran home"));
    s->runNow();
    s->waitForIdle();
    QStringList rebuiltOnShow;
    for (const NamedView& v : views) {
        if (v.tab <= 0) continue;
        const auto before = counts();
        const bool pending = v.view->pendingParts() != 0;
        w->tabs()->setCurrentIndex(v.tab);
        QCoreApplication::processEvents();
        const auto d = since(before);
        EXPECT_EQ(d.at(v.view), pending ? 1 : 0) << v.name.toStdString();
        if (d.at(v.view) > 0) rebuiltOnShow << v.name;
        EXPECT_EQ(v.view->pendingParts(), 0) << v.name.toStdString();
        for (const NamedView& o : views) {
            if (o.view == v.view) continue;
            EXPECT_EQ(d.at(o.view), 0)
                << o.name.toStdString() << " while showing " << v.name.toStdString();
        }
        // Showing it again without a change rebuilds nothing.
        w->tabs()->setCurrentIndex(0);
        QCoreApplication::processEvents();
        const auto again = counts();
        w->tabs()->setCurrentIndex(v.tab);
        QCoreApplication::processEvents();
        EXPECT_EQ(since(again).at(v.view), 0) << v.name.toStdString();
        w->tabs()->setCurrentIndex(0);
        QCoreApplication::processEvents();
    }
    // The views of the trace caught up; so did the translation panel (the main sentence).
    EXPECT_TRUE(rebuiltOnShow.contains(QStringLiteral("q·k")))
        << rebuiltOnShow.join(", ").toStdString();
    EXPECT_TRUE(rebuiltOnShow.contains(QStringLiteral("Values")));
    EXPECT_TRUE(rebuiltOnShow.contains(QStringLiteral("Head table")));
    EXPECT_TRUE(rebuiltOnShow.contains(QStringLiteral("Translate")));
}

TEST_F(RefreshTest, AFocusMoveRebuildsTheVisibleViewsOnce) {
    const auto before = counts();
    QSignalSpy changed(s, &Session::changed);
    s->setQuery(2);
    QCoreApplication::processEvents();
    ASSERT_EQ(changed.count(), 1);
    EXPECT_EQ(changed.first().at(0).value<SessionChange>().parts, int(SessionChange::Focus));
    const auto d = since(before);
    for (const NamedView& v : views)
        EXPECT_EQ(d.at(v.view), v.view->isVisible() ? 1 : 0) << v.name.toStdString();
}

TEST_F(RefreshTest, AModelChangeIsOneEventWithItsTrace) {
    QSignalSpy changed(s, &Session::changed);
    attn::ModelConfig c = s->config();
    c.seed += 1;
    s->setConfig(c);
    s->waitForIdle();
    ASSERT_EQ(changed.count(), 1);
    const SessionChange change = changed.first().at(0).value<SessionChange>();
    EXPECT_TRUE(change.has(SessionChange::Model));
    EXPECT_TRUE(change.has(SessionChange::Trace));
}

namespace {

// Counts how often a run asks the tokenizer to encode.
class CountingTokenizer : public attn::TextTokenizer {
public:
    explicit CountingTokenizer(std::shared_ptr<const attn::TextTokenizer> inner)
        : m_inner(std::move(inner)) {}
    std::vector<attn::Token> encode(std::string_view text) const override {
        ++calls;
        return m_inner->encode(text);
    }
    std::string decode(int id) const override { return m_inner->decode(id); }
    int vocabSize() const override { return m_inner->vocabSize(); }
    std::string name() const override { return m_inner->name(); }
    mutable std::atomic<int> calls{0};

private:
    std::shared_ptr<const attn::TextTokenizer> m_inner;
};

}  // namespace

TEST(Session, ARunTokenizesItsTextOnce) {
    auto made = attn::makeUntrainedModel(attn::ModelConfig{});
    ASSERT_TRUE(made);
    std::shared_ptr<attn::Model> model = made.value();
    auto counting = std::make_shared<CountingTokenizer>(model->tokenizer);
    model->tokenizer = counting;
    Session s;
    s.setText(QStringLiteral("The black cat drank the milk"));
    s.setModel(model);  // runs at once, on the GUI thread
    ASSERT_TRUE(s.trace());
    EXPECT_EQ(counting->calls.load(), 1);
    s.setSyncTokenLimit(0);  // the background path too
    s.setText(QStringLiteral("The black cat drank the milk again"));
    s.runNow();
    s.waitForIdle();
    ASSERT_TRUE(s.trace());
    EXPECT_EQ(s.trace()->tokenCount(), 7);
    EXPECT_EQ(counting->calls.load(), 2);
}
