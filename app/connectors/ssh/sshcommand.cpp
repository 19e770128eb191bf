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

QByteArray SshCommand::stoppable(const QByteArray &command)
{
    // $$ is the session leader: sshd made it a process group (setsid) and
    // every `exec` below keeps its pid. `kill -0` first, so that a command
    // which ended normally never has its background children signalled.
    // A background job's stdin is /dev/null unless redirected, hence fd 3.
    static const QByteArray script =
        "exec 3<&0\n"
        "(cat <&3 >/dev/null; kill -0 $$ 2>/dev/null && kill -TERM -$$) >/dev/null 2>&1 &\n"
        "exec \"${SHELL:-/bin/sh}\" -c \"$1\" </dev/null 3<&-";
    QByteArray line = "exec /bin/sh -c ";
    line.append(shellQuote(script)).append(" sh ").append(shellQuote(command));
    return line;
}

} // namespace Pilothouse
