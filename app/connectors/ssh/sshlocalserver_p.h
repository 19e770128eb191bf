#pragma once
// Lives on an SshSession's worker thread, like the forward that owns it.

#include <QLocalServer>

#include <functional>

namespace Pilothouse::Internal {

// A QLocalServer that hands over the raw descriptor of each accepted
// connection: the forward pumps it itself, which QLocalSocket cannot do for
// half-closed connections (it has no shutdown(SHUT_WR)).
class SshLocalServer final : public QLocalServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SshLocalServer)

public:
    using Handler = std::function<void(int fd)>;
    explicit SshLocalServer(Handler handler, QObject *parent = nullptr);
    ~SshLocalServer() override;

protected:
    void incomingConnection(quintptr socketDescriptor) override;

private:
    Handler m_handler;
};

} // namespace Pilothouse::Internal
