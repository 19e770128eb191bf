#pragma once
// Pure functions, usable on any thread.

#include <QByteArray>
#include <QString>

namespace Pilothouse {

// Shapes the command line an SshSession sends to the remote shell.
class SshCommand final
{
public:
    // 'text' quoted for a POSIX shell: single quotes, with ' written as '\''.
    static QByteArray shellQuote(const QByteArray &text);
    // The same for text.
    static QString quoteForShell(const QString &text);

    // The command prefixed so that closing the channel stops it. OpenSSH
    // ignores the "signal" request for root sessions (no privilege
    // separation after a root login), so a timeout or cancel would leave the
    // command running. The prefix starts a watcher on the session's stdin,
    // which sshd closes when the channel closes: if the command is still
    // running then, the watcher sends TERM to the session's process group.
    // The command runs in the login shell as usual, with stdin from
    // /dev/null (sessions of ours send no input); output and exit status are
    // untouched. Needs a POSIX login shell (sh, bash, dash, zsh, ksh).
    static QByteArray stoppable(const QByteArray &command);
};

} // namespace Pilothouse
