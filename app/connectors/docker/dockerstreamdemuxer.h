#pragma once
// A plain value; use it on one thread at a time.

#include <QByteArray>
#include <QString>

namespace Pilothouse {

// Splits Docker's multiplexed attach/exec stream (used when no TTY is
// allocated) into stdout and stderr. Each frame is an 8-byte header
// {stream: 0 stdin, 1 stdout, 2 stderr; 3 zero bytes; payload size, uint32
// big-endian} followed by the payload. Bytes may arrive split anywhere.
class DockerStreamDemuxer final
{
public:
    // Takes more bytes. False, with error(), when a header is not Docker's:
    // the stream is then not multiplexed (a TTY) or corrupt, and the rest is
    // ignored.
    bool feed(const QByteArray &bytes);

    const QByteArray &stdOut() const { return m_out; }
    const QByteArray &stdErr() const { return m_err; }
    // A frame is begun but not complete: the stream ended early.
    bool hasPartialFrame() const { return !m_pending.isEmpty(); }
    QString error() const { return m_error; }

private:
    QByteArray m_pending;
    QByteArray m_out;
    QByteArray m_err;
    QString m_error;
};

} // namespace Pilothouse
