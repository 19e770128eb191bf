#include "app/connectors/docker/dockerstreamdemuxer.h"

#include <QtEndian>

namespace Pilothouse {
namespace {
constexpr qsizetype HeaderSize = 8;
}

bool DockerStreamDemuxer::feed(const QByteArray &bytes)
{
    if (!m_error.isEmpty())
        return false;
    m_pending += bytes;
    qsizetype pos = 0;
    while (m_pending.size() - pos >= HeaderSize) {
        const auto *header = reinterpret_cast<const uchar *>(m_pending.constData() + pos);
        const uchar stream = header[0];
        if (stream > 2 || header[1] != 0 || header[2] != 0 || header[3] != 0) {
            m_error = QStringLiteral("the output is not Docker's multiplexed stream "
                                     "(bad frame header at byte %1)")
                          .arg(pos);
            m_pending.clear();
            return false;
        }
        const quint32 size = qFromBigEndian<quint32>(header + 4);
        if (m_pending.size() - pos - HeaderSize < qsizetype(size))
            break;
        const QByteArray payload = m_pending.mid(pos + HeaderSize, size);
        // stdin frames never come back from the engine; treat one as stdout.
        (stream == 2 ? m_err : m_out) += payload;
        pos += HeaderSize + size;
    }
    m_pending.remove(0, pos);
    return true;
}

} // namespace Pilothouse
