#pragma once
// Application-wide set-up shared by the window, the tests and the benchmarks. The window's
// start-up (argv, options) is in app/window_main.cpp.

namespace attn::ui {

/// Names for QSettings, the icon, and fonts that can show Cyrillic and CJK tokens. Call after
/// the QApplication exists.
void setUpApplication();

}  // namespace attn::ui
