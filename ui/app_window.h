#pragma once
// Entry point of the window: attention-lab with no command calls runWindow.

namespace attn::ui {

/// Creates the QApplication, shows the main window and runs the event loop.
int runWindow(int argc, char** argv);

/// Application-wide set-up shared by the window, the tests and the benchmarks: names for
/// QSettings, the icon, and fonts that can show Cyrillic and CJK tokens.
void setUpApplication();

}  // namespace attn::ui
