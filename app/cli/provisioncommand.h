#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::ProvisionCommand {

// Whether argv[1] names this command (`pilothouse provision ...`).
bool matches(const QByteArray &command);

// pilothouse provision --inventory FILE [--reason TEXT] [--dry-run] [--json]
// Takes the inventory's bare Debian 12 hosts to a Swarm ready for the stack
// (see Provisioning). Exit codes: 0 done (or the plan made), 1 failed (the
// next run resumes), 2 refused (nothing changed), 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::ProvisionCommand
