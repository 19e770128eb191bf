#include "app/connectors/ssh/sshcommand.h"

namespace Pilothouse {

QByteArray SshCommand::shellQuote(const QByteArray &text)
{
    QByteArray quoted = "'";
    for (const char c : text) {
        if (c == '\'')
            quoted.append("'\\''");
        else
            quoted.append(c);
    }
    quoted.append('\'');
    return quoted;
}

QString SshCommand::quoteForShell(const QString &text)
{
    return QString::fromUtf8(shellQuote(text.toUtf8()));
}

QByteArray SshCommand::stoppable(const QByteArray &command)
{
    // Run by the login shell itself, so that no second shell starts (each
    // one may source ~/.bashrc). $$ is that shell: sshd made it a process
    // group leader (setsid). A background job's stdin is /dev/null unless
    // redirected, hence fd 3. `kill -0` first, so that a command which ended
    // normally never has its background children signalled.
    QByteArray line = "exec 3<&0; (cat <&3 >/dev/null; kill -0 $$ 2>/dev/null && kill -TERM -$$) "
                      ">/dev/null 2>&1 & exec 3<&- </dev/null\n";
    line.append(command);
    return line;
}

} // namespace Pilothouse
