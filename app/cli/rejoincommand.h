#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::RejoinCommand {

// Whether argv[1] names this command (`pilothouse rejoin ...`).
bool matches(const QByteArray &command);

// pilothouse rejoin --node NODE --inventory FILE --reason TEXT [--dry-run]
//     [--no-reclone] [--json]
// Shows the timeline fork of NODE against the primary and the WAL at risk
// before anything changes, then (without --dry-run) rejoins it as a standby:
// pg_rewind, or a re-clone when a rewind cannot work. Exit codes: 0 done (or
// the dry run's report), 1 failed, 2 refused (preflight, lock), 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::RejoinCommand
