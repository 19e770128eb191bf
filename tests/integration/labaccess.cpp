#include "labaccess.h"

#include "app/inventory/inventoryloader.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>

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

bool LabAccess::open()
{
    QString path = qEnvironmentVariable("PILOTHOUSE_LAB_INVENTORY");
    if (path.isEmpty()) {
        const Run status = local(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab"),
                                 {QStringLiteral("status")}, 120000);
        static const QRegularExpression re(QStringLiteral("^inventory: (/\\S+)$"),
                                           QRegularExpression::MultilineOption);
        const auto m = re.match(QString::fromUtf8(status.out));
        if (!status.ok() || !m.hasMatch()) {
            m_error = QStringLiteral("the lab is not up and healthy (`lab status` exit %1):\n%2%3")
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
