#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::DrillCommand {

// Whether argv[1] names this command (`pilothouse drill ...`).
bool matches(const QByteArray &command);

// pilothouse drill --scenario NAME --inventory FILE --reason TEXT [--json]
//     [--out FILE] [--no-app] [--interval MS] [--monitor-interval MS]
//     [--final-primary NODE] [--audit-file PATH]
// Runs a failover drill (see app/operations/drill.h): progress lines on
// stderr, the DrillReport as JSON on stdout with --json (else a summary),
// and in FILE with --out. Exit codes: 0 succeeded, 1 failed, 2 refused (lock
// held, cluster unhealthy, no etcd quorum), 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::DrillCommand
