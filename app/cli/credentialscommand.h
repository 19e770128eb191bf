#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::CredentialsCommand {

// Whether argv[1] names this command (`pilothouse credentials ...`).
bool matches(const QByteArray &command);

// pilothouse credentials import|list|forget --inventory FILE [--json]
//   import: copies each credential file of the inventory's secrets_dir into
//           the OS keychain (the files stay; delete them once imported);
//   list:   which credentials the keychain holds for the cluster (names
//           only, never values) and where each would be read from;
//   forget: deletes the cluster's keychain entries.
// Exit codes: 0 done, 1 the keychain failed, 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::CredentialsCommand
