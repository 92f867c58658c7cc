#pragma once
// Start-up of the window: attention-lab with no command calls runWindow.

namespace attn::app {

/// Creates the QApplication, reads the window's start options (--model, --text, --target,
/// --view, --presentation), shows the main window and runs the event loop.
int runWindow(int argc, char** argv);

}  // namespace attn::app
