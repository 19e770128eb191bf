#include "app/cli/interrupt.h"

#include <QSocketNotifier>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace Pilothouse::Cli {
namespace {

constexpr int Signals[] = {SIGINT, SIGTERM, SIGHUP};
int s_pipe[2] = {-1, -1};

const char *signalName(int signal)
{
    switch (signal) {
    case SIGINT:
        return "SIGINT (Ctrl+C)";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "a signal";
    }
}

// Async-signal-safe: one byte into the pipe, and the next signal of any of
// these kinds ends the process the default way.
void onSignal(int signal)
{
    const unsigned char byte = static_cast<unsigned char>(signal);
    [[maybe_unused]] const ssize_t n = ::write(s_pipe[1], &byte, 1);
    for (int s : Signals)
        std::signal(s, SIG_DFL);
}

} // namespace

void cancelOnInterrupt(QObject *context, std::function<void(const QString &why)> cancel)
{
    if (s_pipe[0] < 0) {
        if (::pipe2(s_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
            std::fprintf(stderr, "pilothouse: cannot watch for Ctrl+C (pipe failed); an "
                                 "interrupted operation will not undo what it did\n");
            return;
        }
    }
    auto *notifier = new QSocketNotifier(s_pipe[0], QSocketNotifier::Read, context);
    QObject::connect(notifier, &QSocketNotifier::activated, context, [cancel = std::move(cancel)] {
        unsigned char byte = 0;
        if (::read(s_pipe[0], &byte, 1) != 1)
            return;
        std::fprintf(stderr,
                     "pilothouse: %s: cancelling, undoing what was done "
                     "(again to stop at once, leaving it as it is)\n",
                     signalName(byte));
        std::fflush(stderr);
        cancel(QStringLiteral("interrupted by %1").arg(QString::fromLatin1(signalName(byte))));
    });
    QObject::connect(context, &QObject::destroyed, [] {
        for (int s : Signals)
            std::signal(s, SIG_DFL);
    });
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int s : Signals)
        ::sigaction(s, &action, nullptr);
}

} // namespace Pilothouse::Cli
