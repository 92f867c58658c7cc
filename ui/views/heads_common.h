#pragma once
// What the views that show heads share: one colour per head (the same head has the same colour
// in Lines and in the model view, as in BertViz) and the sentence that says the model on show is
// not the model as trained because heads are switched off.

#include <QColor>
#include <QString>

namespace attn::ui {

class Session;

/// A distinct colour for head (0-based): twelve hand-picked ones, then hues spread by the golden
/// angle.
QColor headColor(int head);

/// Empty when every head is on; otherwise a short rich-text warning naming how many heads (and
/// which, up to a few) are switched off.
QString alteredNotice(const Session& session);
/// text, followed by alteredNotice when heads are off (then as rich text).
QString withAlteredNotice(const QString& text, const Session& session);

}  // namespace attn::ui

class QCustomPlot;
class QLabel;

namespace attn::ui {

/// Keeps a plot's fonts (axis labels and ticks, legend, titles, text items) at the session's
/// font scale: QCustomPlot copies the application font once, so presentation mode would not
/// reach it otherwise. Applied before every replot; views listen to SessionChange::Appearance
/// and replot.
void followFontScale(QCustomPlot* plot, const Session* session);

/// A view's bold heading at the session's font scale (its font was fixed when it was made).
void scaleHeading(QLabel* heading, double fontScale);

}  // namespace attn::ui
