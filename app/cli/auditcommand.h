#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::AuditCommand {

// Whether argv[1] names this command (`pilothouse audit ...`).
bool matches(const QByteArray &command);

// pilothouse audit verify --inventory FILE [--file PATH] [--offline] [--json]
//     Checks the hash chain of the local file and of its etcd mirror
//     (/pilothouse/<stack>/audit/), and that both agree. Exit 0 intact, 1
//     broken (the first bad entry named by seq and line), 2 cannot read (file
//     or etcd), 64 usage.
// pilothouse audit list --inventory FILE [--file PATH] [--json]
//     Prints the file's entries, oldest first. Exit 0, 2 cannot read, 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::AuditCommand
