#pragma once

#include <QObject>

#include <functional>

namespace Pilothouse::Cli {

// Ctrl+C, SIGTERM and SIGHUP during an operation: the first one calls
// `cancel` from the event loop (the runbook then undoes what it did and ends
// as "cancelled", so the process exits by itself with a report); a second one
// ends the process at once, as if no handler were installed. Lives as long as
// `context`; the handlers are put back when it is destroyed.
void cancelOnInterrupt(QObject *context, std::function<void(const QString &why)> cancel);

} // namespace Pilothouse::Cli
