#include "labaccess.h"

#include "app/inventory/inventoryloader.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

namespace {
const QString LabScript = QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab");
}

LabAccess::Run LabAccess::local(const QString &program, const QStringList &args, int timeoutMs)
{
    QProcess p;
    p.start(program, args);
    Run r;
    if (!p.waitForStarted(5000)) {
        r.err = p.errorString().toUtf8();
        return r;
    }
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(2000);
        r.err = "timed out: " + program.toUtf8() + ' ' + args.join(u' ').toUtf8();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

bool LabAccess::open(int waitMs)
{
    QString path = qEnvironmentVariable("PILOTHOUSE_LAB_INVENTORY");
    if (path.isEmpty()) {
        static const QRegularExpression re(QStringLiteral("^inventory: (/\\S+)$"),
                                           QRegularExpression::MultilineOption);
        Run status;
        QRegularExpressionMatch m;
        const bool healthy = waitUntil(
            [&] {
                status = local(LabScript, {QStringLiteral("status")}, 120000);
                m = re.match(QString::fromUtf8(status.out));
                return status.ok() && m.hasMatch();
            },
            waitMs, 3000);
        if (!healthy) {
            m_error = QStringLiteral("the lab is not up and healthy after %1 s (`lab status` exit "
                                     "%2):\n%3%4")
                          .arg(waitMs / 1000)
                          .arg(status.exitCode)
                          .arg(QString::fromUtf8(status.out), QString::fromUtf8(status.err));
            return false;
        }
        path = m.captured(1);
    }
    const auto loaded = Pilothouse::InventoryLoader::loadFile(path);
    if (!loaded) {
        m_error = loaded.error().toString();
        return false;
    }
    m_inventory = loaded.value();
    return true;
}

LabAccess::Run LabAccess::ssh(const QString &host, const QString &command, int timeoutMs) const
{
    const Pilothouse::InventoryHost *h = m_inventory.host(host);
    if (!h) {
        Run r;
        r.err = "no such host in the inventory: " + host.toUtf8();
        return r;
    }
    const QStringList args{
        QStringLiteral("-i"),
        h->keyFile,
        QStringLiteral("-p"),
        QString::number(h->sshPort),
        QStringLiteral("-o"),
        QStringLiteral("UserKnownHostsFile=") + m_inventory.settings.knownHosts,
        QStringLiteral("-o"),
        QStringLiteral("StrictHostKeyChecking=yes"),
        QStringLiteral("-o"),
        QStringLiteral("BatchMode=yes"),
        QStringLiteral("-o"),
        QStringLiteral("ConnectTimeout=5"),
        QStringLiteral("-o"),
        QStringLiteral("IdentitiesOnly=yes"),
        QStringLiteral("-F"),
        QStringLiteral("/dev/null"),
        h->user + u'@' + h->address,
        command,
    };
    return local(QStringLiteral("ssh"), args, timeoutMs);
}

QString LabAccess::secret(const QString &name) const
{
    QFile f(m_inventory.settings.secretsDir + u'/' + name);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll()).trimmed();
}

QStringList LabAccess::nodesOf(const QString &service) const
{
    const QString first = m_inventory.hosts.value(0).name;
    const Run r = ssh(first, QStringLiteral("docker service ps --filter desired-state=running "
                                            "--format '{{.Node}} {{.CurrentState}}' %1_%2")
                                 .arg(m_inventory.settings.stack, service));
    QStringList nodes;
    for (const QByteArray &line : r.out.split('\n')) {
        const QList<QByteArray> parts = line.simplified().split(' ');
        if (parts.size() >= 2 && parts.at(1) == "Running")
            nodes.append(QString::fromUtf8(parts.at(0)));
    }
    return nodes;
}

bool LabAccess::waitUntil(const std::function<bool()> &ready, int timeoutMs, int pollMs)
{
    QElapsedTimer t;
    t.start();
    while (!ready()) {
        if (t.elapsed() >= timeoutMs)
            return false;
        QTest::qWait(pollMs);
    }
    return true;
}

QString LabAccess::servedSha256(const QString &address, const QString &serverName)
{
    const Run r = local(QStringLiteral("bash"),
                        {QStringLiteral("-c"),
                         QStringLiteral("openssl s_client -connect %1:443 -servername %2 </dev/null 2>/dev/null | "
                                        "openssl x509 -noout -fingerprint -sha256")
                             .arg(address, serverName)},
                        15000);
    return QString::fromLatin1(r.out).section(u'=', 1).trimmed().remove(u':').toLower();
}

QString LabAccess::labPrimary(QString *status)
{
    const Run r = local(LabScript, {QStringLiteral("status")}, 120000);
    if (status)
        *status = QString::fromUtf8(r.out + r.err);
    static const QRegularExpression re(QStringLiteral("^ok\\s+postgres: primary ([\\w-]+)@"),
                                       QRegularExpression::MultilineOption);
    const auto m = re.match(QString::fromUtf8(r.out));
    return r.ok() && m.hasMatch() ? m.captured(1) : QString();
}

bool LabAccess::ensurePrimary(const QString &node, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    QString status;
    QString primary;
    const auto remaining = [&] { return int(qMax<qint64>(0, timeoutMs - t.elapsed())); };
    waitUntil([&] { return !(primary = labPrimary(&status)).isEmpty(); }, remaining(), 3000);
    if (primary.isEmpty()) {
        m_error = QStringLiteral("the lab did not become healthy within %1 s:\n%2")
                      .arg(timeoutMs / 1000)
                      .arg(status);
        return false;
    }
    if (!open(remaining()))
        return false;
    if (primary == node)
        return true;
#ifdef PILOTHOUSE_BINARY
    qInfo("the lab runs with %s primary: switching over to %s", qPrintable(primary),
          qPrintable(node));
    const Run r = local(QStringLiteral(PILOTHOUSE_BINARY),
                        {QStringLiteral("switchover"), QStringLiteral("--inventory"),
                         m_inventory.path, QStringLiteral("--to"), node, QStringLiteral("--reason"),
                         QStringLiteral("test setup: %1 primary again (%2)")
                             .arg(node, QDateTime::currentDateTimeUtc().toString(Qt::ISODate))},
                        qMax(60000, remaining()));
    if (!r.ok()) {
        // The report goes to stdout, the reason for a refusal to stderr.
        m_error =
            QStringLiteral("switching over from %1 to %2 failed (exit %3):\n%4\n%5")
                .arg(primary, node)
                .arg(r.exitCode)
                .arg(QString::fromUtf8(r.out.right(3000)), QString::fromUtf8(r.err.right(3000)));
        return false;
    }
#else
    m_error = QStringLiteral("%1 is the primary, not %2 (this test cannot switch over)")
                  .arg(primary, node);
    return false;
#endif
    waitUntil([&] { return (primary = labPrimary(&status)) == node; }, qMax(60000, remaining()),
              3000);
    if (primary != node) {
        m_error = QStringLiteral("after the switchover to %1 the lab is not healthy on it:\n%2")
                      .arg(node, status);
        return false;
    }
    return true;
}
