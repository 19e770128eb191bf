#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QStringList>

namespace Pilothouse::Cli {

// Whether argv names a headless command (`pilothouse status ...`).
bool isCommand(int argc, char **argv);

// Runs the command in the event loop of the QCoreApplication that exists.
// Returns the process exit code.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli
