#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::PgpoolRepairCommand {

// Whether argv[1] names this command (`pilothouse pgpool-repair ...`).
bool matches(const QByteArray &command);

// pilothouse pgpool-repair --inventory FILE --reason TEXT [--dry-run] [--json]
// Compares every pgpool instance with what the PostgreSQL servers say of
// themselves and opens a session through each; then (without --dry-run)
// attaches detached serving backends, names the real primary, and cycles the
// backends of an instance whose sessions fail. Exit codes: 0 done (nothing
// to repair included), 1 failed, 2 refused (preflight, lock), 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::PgpoolRepairCommand
