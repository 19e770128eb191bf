#include "app/connectors/ssh/sshlocalserver_p.h"

#include <fcntl.h>
#include <unistd.h>

namespace Pilothouse::Internal {

SshLocalServer::SshLocalServer(Handler handler, QObject *parent)
    : QLocalServer(parent)
    , m_handler(std::move(handler))
{}

SshLocalServer::~SshLocalServer() = default;

void SshLocalServer::incomingConnection(quintptr socketDescriptor)
{
    const int fd = int(socketDescriptor);
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (m_handler)
        m_handler(fd);
    else
        ::close(fd);
}

} // namespace Pilothouse::Internal
