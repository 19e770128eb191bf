#pragma once
// Runs on the main thread of a QCoreApplication, before any window exists.

#include <QByteArray>
#include <QStringList>

namespace Pilothouse::Cli::CertsCommand {

// Whether argv[1] names this command (`pilothouse certs ...`).
bool matches(const QByteArray &command);

// pilothouse certs --inventory FILE [--json]
// The certificate radar: every certificate the cluster depends on, with its
// days left, issuer and names, and the layers that run without TLS. Exit
// codes: 0 all have more than 30 days, 1 one expires within 30 days, has
// expired or could not be read, 2 the cluster could not be reached, 64 usage.
int run(const QStringList &arguments);

} // namespace Pilothouse::Cli::CertsCommand
