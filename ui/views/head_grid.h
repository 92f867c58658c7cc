#pragma once
// Every layer × head as a small picture of its attention weights, sized so that the whole grid
// fits the dock (it scrolls down only below a legible size, never sideways). Click one to focus
// it; the focused head is outlined; right-click switches a head off (its output is zeroed) to
// see what it contributed; a switched-off head is crossed out in red.

#include <QImage>
#include <QList>
#include <QWidget>

#include "views/session_view.h"

class QComboBox;
class QGridLayout;
class QLabel;
class QScrollArea;

namespace attn::ui {

class Session;

/// One head's thumbnail.
class HeadThumb : public QWidget {
    Q_OBJECT
public:
    HeadThumb(int layer, int head, QWidget* parent = nullptr);
    void setImage(const QImage& image) {
        m_image = image;
        update();
    }
    void setFocused(bool on);
    void setDisabledHead(bool on);
    void setCaption(const QString& caption) {
        m_caption = caption;
        update();
    }
    void setEdge(int px);
    int layer() const { return m_layer; }
    int head() const { return m_head; }
    bool isFocusedHead() const { return m_focused; }
    const QImage& image() const { return m_image; }
    QSize sizeHint() const override;

signals:
    void clicked(int layer, int head);
    void toggleRequested(int layer, int head);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;

private:
    int m_layer, m_head;
    int m_edge = 84;
    QImage m_image;
    QString m_caption;
    bool m_focused = false;
    bool m_disabled = false;
};

class HeadGrid : public SessionView {
    Q_OBJECT
public:
    explicit HeadGrid(Session* session, QWidget* parent = nullptr);

    QList<HeadThumb*> thumbs() const { return m_thumbs; }
    HeadThumb* thumb(int layer, int head) const;
    /// Which block the grid shows: 0 = (encoder) self, 1 = decoder self, 2 = decoder cross.
    int stackIndex() const;
    /// RunOptions::disabled_heads' block number of a layer of the stack on show.
    int blockOf(int layer) const;
    /// Side of every picture, in pixels, as last laid out.
    int thumbEdge() const { return m_edge; }
    /// Below this side the grid scrolls down instead of shrinking further.
    int minimumEdge() const;
    QScrollArea* scrollArea() const { return m_scroll; }
    QSize sizeHint() const override;

protected:
    void resizeEvent(QResizeEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void refresh(int parts) override;
    void rebuild();
    void refreshImages();
    void refreshFocus();
    void layoutThumbs();
    void toggleHead(int layer, int head);

    QComboBox* m_stack = nullptr;
    QLabel* m_info = nullptr;
    QScrollArea* m_scroll = nullptr;
    QWidget* m_gridHost = nullptr;
    QGridLayout* m_grid = nullptr;
    QList<HeadThumb*> m_thumbs;
    QList<QLabel*> m_headers;
    int m_layers = 0, m_heads = 0;
    int m_edge = 0;
};

}  // namespace attn::ui
