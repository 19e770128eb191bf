#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::SwitchoverCommand {

// Whether argv[1] names this command (`pilothouse switchover ...`).
bool matches(const QByteArray &command);

// pilothouse switchover --to NODE --inventory FILE --reason TEXT [--json]
//     [--method orchestrated|repmgr] [--pgpool-search] [--no-app]
//     [--interval MS]
// Runs the switchover with a heartbeat writer on every pgpool and through the
// app, prints a line per step, and reports the write gap per path, the
// acknowledged writes lost, the timelines and the duration. Exit codes: 0 done,
// 1 failed, 2 refused by the preflight, 3 done but acknowledged writes were
// lost, 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::SwitchoverCommand
