#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::DeployCommand {

// Whether argv[1] names this command (`pilothouse deploy ...`).
bool matches(const QByteArray &command);

// pilothouse deploy --inventory FILE --stack FILE --name STACK [--reason TEXT]
//     [--dry-run] [--json] [--converge-timeout S]
// Reads the stack file, prints the plan (what is created, updated with which
// fields, left as it is), then applies it through a manager's Docker API one
// service at a time and watches each until its tasks run. ${VAR} in the file
// come from the environment. Exit codes: 0 done (or planned, with --dry-run),
// 1 failed (what this run created is removed again, a failed update rolled
// back), 2 refused (a bad stack file, a conflict, the lock held), 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::DeployCommand
