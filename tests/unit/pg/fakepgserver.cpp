#include "fakepgserver.h"

#include <QTcpSocket>
#include <QtEndian>

namespace {

QByteArray int32(qint32 v)
{
    QByteArray b(4, '\0');
    qToBigEndian(v, b.data());
    return b;
}

QByteArray int16(qint16 v)
{
    QByteArray b(2, '\0');
    qToBigEndian(v, b.data());
    return b;
}

QByteArray message(char type, const QByteArray &body)
{
    return type + int32(qint32(body.size() + 4)) + body;
}

qint32 readInt32(const QByteArray &b, qsizetype at)
{
    return qFromBigEndian<qint32>(b.constData() + at);
}

constexpr qint32 SslRequest = 80877103;
constexpr qint32 GssRequest = 80877104;

} // namespace

FakePgServer::FakePgServer(Mode mode, QObject *parent)
    : QObject(parent)
    , m_mode(mode)
{
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *s = m_server.nextPendingConnection()) {
            m_buffers.insert(s, {});
            m_started.insert(s, false);
            connect(s, &QTcpSocket::readyRead, this, [this, s] { onData(s); });
            connect(s, &QTcpSocket::disconnected, this, [this, s] {
                m_buffers.remove(s);
                m_started.remove(s);
                s->deleteLater();
            });
        }
    });
    m_server.listen(QHostAddress::LocalHost);
}

void FakePgServer::terminateAll()
{
    QByteArray fields;
    fields += "SFATAL";
    fields += '\0';
    fields += "C57P01";
    fields += '\0';
    fields += "Mterminating connection due to administrator command";
    fields += '\0';
    fields += '\0';
    const QList<QTcpSocket *> sockets = m_buffers.keys();
    for (QTcpSocket *s : sockets) {
        s->write(message('E', fields));
        s->flush();
        s->disconnectFromHost();
    }
}

void FakePgServer::onData(QTcpSocket *s)
{
    QByteArray &buf = m_buffers[s];
    buf += s->readAll();
    for (;;) {
        if (!m_started.value(s)) {
            if (buf.size() < 8)
                return;
            const qint32 len = readInt32(buf, 0);
            if (buf.size() < len)
                return;
            const qint32 code = readInt32(buf, 4);
            const QByteArray packet = buf.left(len);
            buf.remove(0, len);
            if (code == SslRequest || code == GssRequest) {
                s->write("N");
                continue;
            }
            m_startup.clear();
            const QList<QByteArray> strings = packet.mid(8).split('\0');
            for (qsizetype i = 0; i + 1 < strings.size(); i += 2) {
                if (!strings.at(i).isEmpty())
                    m_startup.insert(strings.at(i), strings.at(i + 1));
            }
            m_started[s] = true;
            if (m_mode == Mode::SilentStartup)
                return;
            QByteArray out = message('R', int32(0));
            const auto param = [](const char *k, const char *v) {
                return message('S', QByteArray(k) + '\0' + QByteArray(v) + '\0');
            };
            out += param("server_version", "15.0");
            out += param("client_encoding", "UTF8");
            out += param("standard_conforming_strings", "on");
            out += message('K', int32(4242) + int32(7));
            out += message('Z', QByteArray("I"));
            s->write(out);
            continue;
        }
        if (buf.size() < 5)
            return;
        const char type = buf.at(0);
        const qint32 len = readInt32(buf, 1);
        if (buf.size() < len + 1)
            return;
        const QByteArray body = buf.mid(5, len - 4);
        buf.remove(0, len + 1);
        if (type == 'X') {
            s->disconnectFromHost();
            return;
        }
        if (type == 'Q') {
            const QByteArray sql = body.left(body.indexOf('\0'));
            m_queries.append(QString::fromUtf8(sql));
            if (m_mode == Mode::Answer)
                answer(s, sql);
        }
    }
}

void FakePgServer::answer(QTcpSocket *s, const QByteArray &sql)
{
    QByteArray out;
    if (sql.startsWith("fail")) {
        QByteArray fields;
        fields += "SERROR";
        fields += '\0';
        fields += "C42601";
        fields += '\0';
        fields += "Msyntax error at or near \"fail\"";
        fields += '\0';
        fields += '\0';
        out += message('E', fields);
    } else {
        QList<ResultSet> sets;
        if (responder) {
            sets = responder(QString::fromUtf8(sql));
        } else {
            const int statements = int(sql.count(';')) + 1;
            for (int st = 0; st < statements; ++st)
                sets.append({columns, rows});
        }
        if (sets.isEmpty())
            out += message('I', {});
        for (const ResultSet &set : std::as_const(sets)) {
            QByteArray desc = int16(qint16(set.columns.size()));
            for (const QString &c : set.columns) {
                desc += c.toUtf8() + '\0';
                desc += int32(0) + int16(0) + int32(25) + int16(-1) + int32(-1) + int16(0);
            }
            out += message('T', desc);
            for (const auto &row : set.rows) {
                QByteArray data = int16(qint16(row.size()));
                for (const auto &v : row)
                    data += v ? int32(qint32(v->size())) + *v : int32(-1);
                out += message('D', data);
            }
            out += message('C', "SELECT " + QByteArray::number(set.rows.size()) + '\0');
        }
    }
    out += message('Z', QByteArray("I"));
    s->write(out);
}
